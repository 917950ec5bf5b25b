"""Atomic file output: a finished file or nothing, never a half-written one.

Files are created with the usual mode for new files, ``0666`` less the process umask (``0644``
under the common umask 022) — the same as ``open(path, "w")`` — so a published report can be read
by a colleague or a web server. :func:`tempfile.mkstemp` would create them ``0600`` instead, and
``os.replace`` keeps that mode. The kernel applies the umask when the file is created, so the umask
is never read or changed here (``os.umask`` is process-wide and not safe to toggle while threads
write files). Private files (the pickle cache) pass ``mode=0o600``.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

#: mode requested for new files; the umask takes away from it (0644 under umask 022)
DEFAULT_FILE_MODE = 0o666

_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _create_temporary(target: Path, mode: int) -> Path:
    """A new, empty file beside ``target`` with a random name, created exclusively with ``mode``."""
    for _ in range(100):
        candidate = target.parent / f".{target.name}.{secrets.token_hex(6)}{target.suffix}.part"
        try:
            fd = os.open(candidate, _CREATE_FLAGS, mode)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate
    raise FileExistsError(f"no free temporary name beside {target} / 无法在输出目录创建临时文件")


@contextmanager
def atomic_path(target: Path | str, mode: int = DEFAULT_FILE_MODE) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only if the block succeeds.

    The file gets ``mode`` less the umask (default: the usual ``0666 & ~umask``). Writers that
    open the yielded path for writing keep that mode.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _create_temporary(target, mode)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(target: Path | str, text: str, mode: int = DEFAULT_FILE_MODE) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically, with ``mode`` less the umask."""
    with atomic_path(target, mode) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def replace_folder(staging: Path, target: Path) -> Path:
    """Move a fully written ``staging`` folder into place as ``target``, replacing what was there.

    The old folder is renamed aside first and removed only once the new one is in place, so a
    reader sees either the old folder or the new one, never a half-written mix.
    """
    staging, target = Path(staging), Path(target)
    if target.exists():
        trash = target.with_name(f".{target.name}-old")
        shutil.rmtree(trash, ignore_errors=True)
        target.rename(trash)
        staging.rename(target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        staging.rename(target)
    return target


def _keep_copy(path: Path, copy: Path) -> None:
    """``copy`` holds what ``path`` holds now: a hard link where the file system allows one, else a copy."""
    try:
        os.link(path, copy)
    except OSError:
        shutil.copy2(path, copy)


def replace_files(new_files: dict[str, Path], folder: Path, aside: Path, remove: Iterable[str] = ()) -> list[str]:
    """Move finished files into ``folder`` one by one, each with one atomic rename, keeping what they replace.

    ``new_files``: name in ``folder`` → a finished file on the same file system (moved, in this order).
    A file a name replaces is kept in ``aside`` first (a hard link or a copy), and the new file then
    takes its place with ``os.replace``, so a reader of ``folder`` sees the old file or the new one
    under that name, never none and never half of one. Each name of ``remove`` is moved into
    ``aside``. Nothing else in ``folder`` is touched.

    If any step fails, every file already moved is put back (the replaced and removed ones from
    ``aside``, the new ones taken out) before the error is raised: ``folder`` is as it was, and
    ``aside`` is empty again unless a file could not be put back (it is then still there).
    Returns the names kept in ``aside``.
    """
    folder, aside = Path(folder), Path(aside)
    aside.mkdir(parents=True, exist_ok=True)
    kept: list[str] = []
    undo: list[Callable[[], object]] = []  # how to take back each step done, in order
    try:
        for name, source in new_files.items():
            target = folder / name
            if target.is_file() and not target.is_symlink():
                _keep_copy(target, aside / name)
                kept.append(name)
                undo.append((aside / name).unlink)  # kept, not yet replaced
                os.replace(source, target)
                undo[-1] = partial(os.replace, aside / name, target)
            else:
                os.replace(source, target)
                undo.append(partial(target.unlink, missing_ok=True))
        for name in remove:
            target = folder / name
            if target.is_file() and not target.is_symlink():
                os.replace(target, aside / name)
                kept.append(name)
                undo.append(partial(os.replace, aside / name, target))
    except BaseException:
        for step in reversed(undo):
            try:
                step()
            except OSError:
                continue  # best effort: what could not be put back stays in ``aside``
        raise
    return kept
