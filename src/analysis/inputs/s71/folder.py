"""The data folder an import writes (导入目录): what in it is the import's own, and replacing only that.

An import never deletes or overwrites what it did not write. The office keeps more in a data folder
than the import writes (``loans/`` copied in beside it, an analyst's notes), so the folder is never
replaced as a whole. Instead:

* every import records its own files and their SHA-256 in :data:`MANIFEST_FILE` inside the folder
  (:class:`ImportManifest`);
* a re-import replaces only those files, each with one atomic rename
  (:func:`analysis.core.files.replace_files`); a file of the last import that the new one no longer
  writes (``monthly.xlsx`` after ``--format csv``, a tidy table no longer in ``--tidy``) is taken
  out, since a stale table beside the new one would be read as current. What they replace is kept in
  :data:`PREVIOUS_FOLDER` until the next import, and put back if the import fails midway;
* anything else in the folder is never touched;
* the import is refused, with nothing written, when a file of the last import was changed since
  (its hash differs: an analyst's edit would be lost; carry it into the import's sources instead),
  when the import would write over a file it did not write, and when a folder holding anything has
  no manifest and is not an earlier import's folder (:func:`plan_folder`);
* a folder written by an import before manifests existed (it holds ``s71-provenance.csv`` and
  ``s71-cells.csv``, files only this importer writes, but no manifest) is re-imported: the names
  the import writes are replaced, and since edits cannot be told there, every file replaced is kept
  in :data:`PREVIOUS_FOLDER` and named in the summary.

A reader of the folder sees, under each name, the old file or the new one, never a half-written
file; an import killed halfway through the renames leaves its pending record
(``.s71-import-pending-*.json``), with which the next import still recognises the files of either
import as its own.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from analysis.core.errors import Issue
from analysis.core.files import atomic_write_text, replace_files
from analysis.inputs.s71.versions import CHECKS_FILE, DETAIL_FILE

#: the import's record of its own files, inside the folder it wrote
MANIFEST_FILE = ".s71-import.json"
#: the record of an import that is moving its files in (``<prefix><token>.json``, removed when it has finished)
PENDING_PREFIX = ".s71-import-pending-"
#: the files the last import replaced or took out, kept until the next import
PREVIOUS_FOLDER = ".s71-import-previous"
#: where an import into an existing folder writes its files before moving them in
STAGING_PREFIX = ".s71-import-new-"
_ASIDE_PREFIX = ".s71-import-aside-"
#: files only an S71 import writes: a folder holding both, without a manifest, is an earlier import's
MARKER_FILES = ("s71-provenance.csv", "s71-cells.csv")
#: the names an import writes besides the tidy tables it copies (``monthly`` in either format)
OWN_NAMES = ("monthly.xlsx", "monthly.csv", "s71-provenance.csv", "s71-cells.csv", CHECKS_FILE, DETAIL_FILE)


def _ours(name: str) -> bool:
    """The import's bookkeeping in the folder (manifest, kept files, unfinished staging)."""
    return name in (MANIFEST_FILE, PREVIOUS_FOLDER) or name.startswith((STAGING_PREFIX, _ASIDE_PREFIX, PENDING_PREFIX))


def _sha256(path: Path) -> str:
    from analysis.inputs.loading import file_sha256

    return file_sha256(path)


@dataclass(frozen=True)
class ImportManifest:
    """``.s71-import.json``: the files an import wrote into its folder, with their SHA-256."""

    files: dict[str, str]
    written_at: str = ""
    #: the S71 files read (name → SHA-256) and the tidy folder copied
    sources: dict[str, str] = field(default_factory=dict)
    tidy: str = ""
    tool: str = "analysis import-s71"
    format_version: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> ImportManifest | None:
        """The manifest at ``path``; None when there is none or it cannot be read as one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            files = {str(k): str(v) for k, v in dict(data["files"]).items()}
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(
            files=files,
            written_at=str(data.get("written_at", "")),
            sources={str(k): str(v) for k, v in dict(data.get("sources") or {}).items()},
            tidy=str(data.get("tidy", "")),
        )


@dataclass
class FolderPlan:
    """What an import may do in its output folder (:func:`plan_folder`)."""

    out_dir: Path
    #: the folder exists (else it is written whole, by one rename)
    exists: bool
    #: files of the last import still in the folder, each with the hashes it may have (empty: unknown)
    previous: dict[str, set[str]] = field(default_factory=dict)
    #: the folder was written by an import before manifests existed
    legacy: bool = False
    issues: list[Issue] = field(default_factory=list)


def _describe(entries: list[Path], limit: int = 8) -> str:
    """``loans/（271 个文件/files）、备注.txt …`` — what a folder holds, in brief."""
    parts = []
    for entry in entries[:limit]:
        if entry.is_dir() and not entry.is_symlink():
            n = sum(1 for p in entry.rglob("*") if p.is_file())
            parts.append(f"{entry.name}/（{n} 个文件/files）")
        elif entry.is_symlink():
            parts.append(f"{entry.name}（链接/link → {os.readlink(entry)}）")
        else:
            parts.append(entry.name)
    more = f" 等共 {len(entries)} 项 / {len(entries)} entries in all" if len(entries) > limit else ""
    return "、".join(parts) + more


def plan_folder(out_dir: Path, names: set[str]) -> FolderPlan:
    """Check ``out_dir`` before an import that writes ``names``; the refusals are in ``issues``.

    Refused (``s71_out_foreign``): ``out_dir`` is not a folder; it holds anything but the import's
    own bookkeeping and has no manifest and is not an earlier import's folder; one of ``names`` is
    there and is not a file of the last import (a file it did not write, a link, a folder).
    Refused (``s71_out_edited``): a file of the last import has changed since (or became a link).
    """
    out_dir = Path(out_dir)
    plan = FolderPlan(out_dir, out_dir.exists() or out_dir.is_symlink())
    if not plan.exists:
        return plan
    where = str(out_dir)
    if not out_dir.is_dir():
        plan.issues.append(Issue(where, None, "--out", "s71_out_foreign", "不是文件夹 / not a folder"))
        return plan
    entries = sorted((p for p in out_dir.iterdir() if not _ours(p.name)), key=lambda p: p.name)
    if not entries:
        return plan
    manifest = ImportManifest.read(out_dir / MANIFEST_FILE)
    pending = [m for p in sorted(out_dir.glob(f"{PENDING_PREFIX}*.json")) if (m := ImportManifest.read(p))]
    present = {p.name: p for p in entries}
    if manifest is None and not pending:
        if not all(n in present and present[n].is_file() for n in MARKER_FILES):
            plan.issues.append(
                Issue(
                    where,
                    None,
                    "--out",
                    "s71_out_foreign",
                    f"该文件夹没有导入记录（{MANIFEST_FILE}）/ the folder has no import record, 其中已有/and holds: "
                    f"{_describe(entries)}；请指定新的或空的文件夹 / choose a new or empty folder",
                )
            )
            return plan
        plan.legacy = True  # an import's folder from before manifests: its names are the import's
        own = set(OWN_NAMES) | set(names)
        plan.previous = {n: set() for n in own if n in present and present[n].is_file() and not present[n].is_symlink()}
    else:
        for record in [manifest, *pending]:
            for name, digest in (record.files if record else {}).items():
                if name in present and name != MANIFEST_FILE:
                    plan.previous.setdefault(name, set()).add(digest)
        for name in sorted(plan.previous):
            path = present[name]
            if path.is_symlink() or not path.is_file():
                what = "已换成链接或文件夹 / replaced by a link or a folder"
            elif _sha256(path) not in plan.previous[name]:
                what = "内容与上次导入写出时不同 / its content differs from what the import wrote"
            else:
                continue
            plan.issues.append(
                Issue(
                    f"{where}/{name}",
                    None,
                    None,
                    "s71_out_edited",
                    f"{what}（上次导入/last import {manifest.written_at if manifest else '?'}）。"
                    "请把修改改在导入的来源（--tidy 或S71报表）中，或将该文件移出文件夹后重新导入 / "
                    "make the change in the import's sources (--tidy or the S71 returns), or move the file "
                    "out of the folder, then import again",
                )
            )
    for name in sorted(names & set(present) - set(plan.previous)):
        plan.issues.append(
            Issue(
                f"{where}/{name}",
                None,
                None,
                "s71_out_foreign",
                "导入要写出同名文件，而该文件不是导入写出的，请将其改名或移出 / the import writes a file of this "
                "name and this one was not written by an import: rename it or move it out",
            )
        )
    return plan


@dataclass
class FolderWrite:
    """What :func:`write_folder` did: the import's files, and those kept aside in :data:`PREVIOUS_FOLDER`."""

    files: list[Path]
    kept: list[str] = field(default_factory=list)
    legacy: bool = False

    def note(self, out_dir: Path) -> str:
        if not self.kept:
            return ""
        where = Path(out_dir) / PREVIOUS_FOLDER
        if self.legacy:
            return (
                f"该文件夹由早先的导入写出（无导入记录）：以下文件已替换，原文件保存在 {where} / written by an "
                f"earlier import without a record: these files were replaced, the old ones are kept in {where}: "
                + "、".join(self.kept)
            )
        return f"上次导入的文件保存在 / the last import's files are kept in {where}: " + "、".join(self.kept)


def write_folder(
    plan: FolderPlan,
    write: Callable[[Path], list[Path]],
    check: Callable[[Path], object] | None = None,
    record: ImportManifest | None = None,
) -> FolderWrite:
    """Write the import into ``plan.out_dir``: ``write(folder)`` writes its files into an empty folder
    and returns them, ``check(folder)`` may refuse them; then they are moved in (a new folder: the whole
    folder by one rename). Nothing in the folder changes unless every step succeeds."""
    out_dir = plan.out_dir
    record = record or ImportManifest(files={})
    if not plan.exists:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
        try:
            files = _write_staged(staging, write, check, record)
            staging.rename(out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return FolderWrite(sorted(out_dir / p.name for p in files if p.name != MANIFEST_FILE))
    for leftover in out_dir.glob(f"{STAGING_PREFIX}*"):  # of an import killed while writing
        shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
    aside = Path(tempfile.mkdtemp(prefix=_ASIDE_PREFIX, dir=out_dir))
    pending = out_dir / f"{PENDING_PREFIX}{aside.name[len(_ASIDE_PREFIX) :]}.json"
    try:
        files = _write_staged(staging, write, check, record)
        new = {p.name: p for p in files if p.name != MANIFEST_FILE}
        again = plan_folder(out_dir, set(new))  # changed while the import was reading?
        if again.issues:
            from analysis.core.errors import DataValidationError

            raise DataValidationError(again.issues)
        manifest = ImportManifest.read(staging / MANIFEST_FILE)
        assert manifest is not None
        atomic_write_text(pending, manifest.to_json())  # the files are this import's, should it be killed
        stale = sorted(set(plan.previous) - set(new))
        kept = replace_files(new | {MANIFEST_FILE: staging / MANIFEST_FILE}, out_dir, aside, remove=stale)
        kept = [k for k in kept if k != MANIFEST_FILE]
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        pending.unlink(missing_ok=True)
        if not any(aside.iterdir()):
            aside.rmdir()
        raise
    for done in out_dir.glob(f"{PENDING_PREFIX}*.json"):  # this one's, and any of a killed import
        done.unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    previous = out_dir / PREVIOUS_FOLDER
    shutil.rmtree(previous, ignore_errors=True)
    if kept:  # with the last import's manifest, which says what they were
        aside.rename(previous)
    else:
        shutil.rmtree(aside, ignore_errors=True)
    return FolderWrite(sorted(out_dir / n for n in new), kept, plan.legacy)


def _write_staged(
    staging: Path, write: Callable[[Path], list[Path]], check: Callable[[Path], object] | None, record: ImportManifest
) -> list[Path]:
    files = write(staging)
    if check is not None:
        check(staging)
    manifest = ImportManifest(
        files={p.name: _sha256(p) for p in files},
        written_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        sources=record.sources,
        tidy=record.tidy,
    )
    (staging / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8")
    return [*files, staging / MANIFEST_FILE]
