"""Find an installed CJK font (中文字体) for charts and PDFs; fail with instructions when there is none.

Two font lists matter: matplotlib's (charts) and fontconfig's (WeasyPrint's PDFs, through Pango).
With no CJK font known to fontconfig WeasyPrint crashes the process (a segfault, not an error), so
:func:`require_cjk_fonts` checks both before a batch starts any work.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import lru_cache

from analysis.core.errors import AnalysisError

#: Preferred families, Simplified Chinese forms first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Sans SC",
    "Sarasa Gothic SC",
)

INSTALL_HINT = (
    "未找到中文字体，图表中的中文将无法显示。/ No CJK font found: Chinese text in charts would not show.\n"
    "  Debian/Ubuntu: sudo apt-get install fonts-noto-cjk   (or run `make system-deps`)\n"
    "  Fedora: sudo dnf install google-noto-sans-cjk-fonts\n"
    "  Windows/macOS: Microsoft YaHei / PingFang SC are found automatically."
)

FONTCONFIG_HINT = (
    "fontconfig 找不到中文字体（`fc-list :lang=zh` 无结果），PDF 报告无法生成（WeasyPrint 会崩溃）。/ "
    "fontconfig finds no CJK font (`fc-list :lang=zh` lists nothing), so PDF reports cannot be made "
    "(WeasyPrint would crash).\n"
    "  Debian/Ubuntu: sudo apt-get install fonts-noto-cjk fontconfig   (or run `make system-deps`)\n"
    "  已安装字体但仍报此错 / font installed but still refused: run `fc-cache -f`, or copy the .ttc/.otf "
    "file to ~/.local/share/fonts/ and run `fc-cache -f`."
)

FONTCONFIG_MISSING_HINT = (
    "未找到 fontconfig 的 `fc-list` 命令，无法确认 PDF 所需的中文字体。/ fontconfig's `fc-list` was not "
    "found, so the CJK font PDFs need cannot be checked.\n"
    "  Debian/Ubuntu: sudo apt-get install fontconfig fonts-noto-cjk   (or run `make system-deps`)"
)


class MissingCJKFontError(AnalysisError, RuntimeError):
    """No CJK font where charts (matplotlib) or PDFs (fontconfig) look; the message says how to install one."""


@lru_cache(maxsize=1)
def find_cjk_font() -> str:
    """Name of the first installed CJK family in :data:`CJK_FAMILIES`."""
    from matplotlib import font_manager

    def installed() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = installed()
    if not any(f in names for f in CJK_FAMILIES):
        # the font may have been installed after matplotlib cached its font list
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)  # type: ignore[attr-defined]
        names = installed()
    for family in CJK_FAMILIES:
        if family in names:
            return family
    raise MissingCJKFontError(INSTALL_HINT)


def use_cjk_font() -> str:
    """Configure matplotlib (and seaborn) to draw Chinese text; returns the family used."""
    import matplotlib

    family = find_cjk_font()
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False  # CJK fonts lack U+2212
    return family


def fontconfig_cjk_families() -> list[str] | None:
    """Families fontconfig offers for Chinese (``fc-list :lang=zh``), in its order, each once.

    ``None`` when this system has no ``fc-list`` command (Windows, macOS without fontconfig tools);
    an empty list when fontconfig knows no CJK font.
    """
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    result = subprocess.run(
        [fc_list, "--format", "%{family}\\n", ":lang=zh"], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        return []
    families: list[str] = []
    for line in result.stdout.splitlines():
        for family in line.split(","):  # one font may carry several names: "Noto Sans CJK SC,Noto Sans CJK TC"
            family = family.strip()
            if family and family not in families:
                families.append(family)
    return families


def require_cjk_fonts(pdf: bool = True) -> str:
    """Stop before any work when charts or PDFs could not show Chinese (检查中文字体).

    Checks matplotlib's font list (charts) and, when ``pdf`` is true, fontconfig's (WeasyPrint):
    raises :class:`MissingCJKFontError` with the install instructions in Chinese and English.
    On Linux a missing ``fc-list`` is refused too (``make system-deps`` installs it); on other systems
    the fontconfig check is skipped. Returns the chart font family.
    """
    family = find_cjk_font()
    if pdf:
        families = fontconfig_cjk_families()
        if families is None:
            if sys.platform.startswith("linux"):
                raise MissingCJKFontError(FONTCONFIG_MISSING_HINT)
        elif not families:
            raise MissingCJKFontError(FONTCONFIG_HINT)
    return family
