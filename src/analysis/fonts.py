"""Find an installed CJK font for charts; fail with instructions when there is none."""

from __future__ import annotations

from functools import lru_cache

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


class MissingCJKFontError(RuntimeError):
    pass


@lru_cache(maxsize=1)
def find_cjk_font() -> str:
    """Name of the first installed CJK family in :data:`CJK_FAMILIES`."""
    from matplotlib import font_manager

    def installed() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = installed()
    if not any(f in names for f in CJK_FAMILIES):
        # the font may have been installed after matplotlib cached its font list
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
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
