"""A CJK font is found, and its absence is reported with install instructions."""

from __future__ import annotations

import pytest

from analysis import fonts


def test_cjk_font_is_installed():
    assert fonts.find_cjk_font() in fonts.CJK_FAMILIES


def test_missing_font_names_how_to_install(monkeypatch):
    fonts.find_cjk_font.cache_clear()
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ("No Such Font SC",))
    try:
        with pytest.raises(fonts.MissingCJKFontError, match="apt-get install fonts-noto-cjk"):
            fonts.find_cjk_font()
    finally:
        fonts.find_cjk_font.cache_clear()
