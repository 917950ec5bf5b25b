"""Word documents read back as the office sees them: converted with LibreOffice headless into PDF
(one ``soffice`` call for many files) and the PDF read with poppler (``pdftotext``, ``pdffonts``).

Each test process uses a private LibreOffice profile (``-env:UserInstallation``), so parallel test
workers never share one (two instances on one profile wait for each other or fail), and a
fontconfig file of its own that names the Chinese faces of the templates' fonts (仿宋_GB2312 …) as
the Noto CJK faces installed with ``fonts-noto-cjk`` — LibreOffice ignores the alternatives a Word
file's font table gives and asks fontconfig for the name alone (see :data:`FONT_ALIASES`).

    from tests.outputs.office import convert, soffice
    pytestmark = pytest.mark.skipif(soffice() is None, reason=NO_SOFFICE)
    converted = convert([a_docx, b_docx], tmp_path)
    converted[a_docx].pages  # the text of each page, laid out (pdftotext -layout)
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

NO_SOFFICE = "LibreOffice (soffice) is not installed: `make system-deps-test` installs it (libreoffice-writer-nogui)"
#: seconds one conversion call may take (about 1.5 s for several files; a fresh profile adds a few)
TIMEOUT = 240

#: the templates' East-Asian font names → the face fontconfig gives LibreOffice for them: the
#: serif faces (仿宋, 宋体, 楷体) apart from the sans one (黑体), as Word shows them
FONT_ALIASES = {
    "仿宋_GB2312": "Noto Serif CJK SC",
    "仿宋": "Noto Serif CJK SC",
    "FangSong": "Noto Serif CJK SC",
    "方正小标宋简体": "Noto Serif CJK SC",
    "宋体": "Noto Serif CJK SC",
    "SimSun": "Noto Serif CJK SC",
    "楷体_GB2312": "Noto Serif CJK SC",
    "楷体": "Noto Serif CJK SC",
    "KaiTi": "Noto Serif CJK SC",
    "黑体": "Noto Sans CJK SC",
    "SimHei": "Noto Sans CJK SC",
}


def soffice() -> str | None:
    """The LibreOffice binary, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def fontconfig_file(folder: Path) -> Path:
    """A fontconfig file: the system's configuration plus :data:`FONT_ALIASES` (as strong aliases)."""
    aliases = "".join(
        f'<match target="pattern"><test name="family"><string>{name}</string></test>'
        f'<edit name="family" mode="prepend" binding="strong"><string>{face}</string></edit></match>'
        for name, face in FONT_ALIASES.items()
    )
    path = folder / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include>{aliases}</fontconfig>',
        encoding="utf-8",
    )
    return path


@cache
def _home() -> Path:
    """This process's LibreOffice profile and fontconfig file (kept for the whole test session)."""
    return Path(tempfile.mkdtemp(prefix=f"soffice-{os.getpid()}-"))


@dataclass
class Converted:
    """One document as LibreOffice laid it out."""

    source: Path
    pdf: Path
    #: the text of each page, laid out as printed (pdftotext -layout)
    pages: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    def fonts(self) -> list[str]:
        """The names of the fonts the PDF embeds (pdffonts), subset prefixes removed."""
        out = subprocess.run(["pdffonts", str(self.pdf)], capture_output=True, text=True, timeout=60, check=True)
        return [line.split()[0].split("+")[-1] for line in out.stdout.splitlines()[2:] if line.strip()]

    def words(self, page: int = 1) -> list[tuple[float, float, float, float, str]]:
        """The words of ``page`` with their boxes in points (x0, y0, x1, y1, word) — pdftotext -bbox."""
        out = subprocess.run(
            ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(self.pdf), "-"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        import re

        found = re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out.stdout
        )
        return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in found]


def convert(documents: list[Path], out_dir: Path, timeout: float = TIMEOUT) -> dict[Path, Converted]:
    """Convert ``documents`` (.docx) to PDF in one LibreOffice call and read each back; keyed by the
    given paths. Their file names must differ (the PDFs share ``out_dir``)."""
    binary = soffice()
    if binary is None:
        raise RuntimeError(NO_SOFFICE)
    stems = [Path(d).stem for d in documents]
    if len(set(stems)) != len(stems):
        raise ValueError(f"two documents of one name: {stems}")
    out_dir.mkdir(parents=True, exist_ok=True)
    home = _home()
    env = {
        **os.environ,
        "HOME": str(home),
        "FONTCONFIG_FILE": str(fontconfig_file(home)),
        "SAL_USE_VCLPLUGIN": "svp",
    }
    command = [
        binary,
        f"-env:UserInstallation={(home / 'profile').as_uri()}",
        "--headless",
        "--norestore",
        "--nologo",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out_dir),
        *[str(d) for d in documents],
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # soffice.bin and its helpers, only this call's
        process.communicate()
        raise RuntimeError(f"LibreOffice took longer than {timeout} s converting {len(documents)} documents") from None
    converted = {}
    for document in documents:
        pdf = out_dir / f"{Path(document).stem}.pdf"
        if not pdf.is_file():
            raise RuntimeError(f"LibreOffice wrote no PDF for {document} (exit {process.returncode}): {stdout}{stderr}")
        converted[document] = Converted(Path(document), pdf, _pages(pdf))
    return converted


def _pages(pdf: Path) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True
    )
    pages = out.stdout.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages
