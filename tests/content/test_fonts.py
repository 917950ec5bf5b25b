"""A CJK font is found, and its absence is reported with install instructions."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from analysis.content import fonts


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


# --- fontconfig, the font list WeasyPrint's PDFs use -------------------------------------------


def _stand_in_fc_list(tmp_path, monkeypatch, output: str, exit_code: int = 0):
    """An ``fc-list`` first on PATH that prints ``output`` and records its arguments."""
    stub = tmp_path / "stub"
    stub.mkdir()
    script = stub / "fc-list"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" > "{tmp_path}/args"\nprintf "{output}"\nexit {exit_code}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "args"


def test_fontconfig_without_cjk_font_stops_with_the_install_hint(tmp_path, monkeypatch):
    _stand_in_fc_list(tmp_path, monkeypatch, "")
    with pytest.raises(fonts.MissingCJKFontError) as caught:
        fonts.require_cjk_fonts()
    message = str(caught.value)
    assert "fontconfig 找不到中文字体" in message and "fontconfig finds no CJK font" in message
    assert "apt-get install fonts-noto-cjk" in message and "fc-cache -f" in message


def test_fontconfig_families_are_read_once_each(tmp_path, monkeypatch):
    args = _stand_in_fc_list(
        tmp_path, monkeypatch, "Noto Sans CJK SC,Noto Sans CJK TC\\nWenQuanYi Zen Hei\\nNoto Sans CJK SC\\n"
    )
    assert fonts.fontconfig_cjk_families() == ["Noto Sans CJK SC", "Noto Sans CJK TC", "WenQuanYi Zen Hei"]
    assert args.read_text().split()[-1] == ":lang=zh"  # fonts that cover Chinese, not any font
    assert fonts.require_cjk_fonts() in fonts.CJK_FAMILIES


def test_failing_fc_list_counts_as_no_font(tmp_path, monkeypatch):
    _stand_in_fc_list(tmp_path, monkeypatch, "Noto Sans CJK SC\\n", exit_code=1)
    assert fonts.fontconfig_cjk_families() == []
    with pytest.raises(fonts.MissingCJKFontError, match="fc-list :lang=zh"):
        fonts.require_cjk_fonts()


def test_charts_only_do_not_need_fontconfig(tmp_path, monkeypatch):
    _stand_in_fc_list(tmp_path, monkeypatch, "")
    assert fonts.require_cjk_fonts(pdf=False) in fonts.CJK_FAMILIES


def test_no_fc_list_on_linux_is_refused_elsewhere_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)
    assert fonts.fontconfig_cjk_families() is None
    monkeypatch.setattr(fonts.sys, "platform", "linux")
    with pytest.raises(fonts.MissingCJKFontError, match="apt-get install fontconfig"):
        fonts.require_cjk_fonts()
    monkeypatch.setattr(fonts.sys, "platform", "win32")
    assert fonts.require_cjk_fonts() in fonts.CJK_FAMILIES


needs_fc_list = pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig tools not installed")


def _fontconfig_with(tmp_path, monkeypatch, font_files) -> None:
    """Point the real fontconfig at a folder holding only ``font_files`` (FONTCONFIG_FILE)."""
    folder = tmp_path / "fonts"
    folder.mkdir()
    for font in font_files:
        shutil.copy(font, folder)
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{folder}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))


@needs_fc_list
def test_real_fontconfig_with_only_a_latin_font_is_refused(tmp_path, monkeypatch):
    """The real ``fc-list``: a Latin font alone (matplotlib's DejaVu Sans) does not cover Chinese."""
    import matplotlib

    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    _fontconfig_with(tmp_path, monkeypatch, [dejavu])
    assert fonts.fontconfig_cjk_families() == []
    with pytest.raises(fonts.MissingCJKFontError, match="fontconfig finds no CJK font"):
        fonts.require_cjk_fonts()


@needs_fc_list
def test_real_fontconfig_with_no_font_at_all_is_refused(tmp_path, monkeypatch):
    """The state in which WeasyPrint segfaults: the check stops first, with an error."""
    _fontconfig_with(tmp_path, monkeypatch, [])
    with pytest.raises(fonts.MissingCJKFontError, match="fontconfig 找不到中文字体"):
        fonts.require_cjk_fonts()


@needs_fc_list
def test_this_machine_has_a_cjk_font_for_pdfs():
    assert fonts.fontconfig_cjk_families(), "fc-list :lang=zh lists nothing: run `make system-deps`"
    assert fonts.require_cjk_fonts() in fonts.CJK_FAMILIES
