"""Atomic file output: a finished file or nothing, never a half-written one.

Files are created with the usual mode for new files, ``0666`` less the process umask (``0644``
under the common umask 022) — the same as ``open(path, "w")`` — so a published report can be read
by a colleague or a web server. :func:`tempfile.mkstemp` would create them ``0600`` instead, and
``os.replace`` keeps that mode. The kernel applies the umask when the file is created, so the umask
is never read or changed here (``os.umask`` is process-wide and not safe to toggle while threads
write files). Private files (the pickle cache) pass ``mode=0o600``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
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


# --- private files: caches of bank data ----------------------------------------------------------
# A cache of the banks' files (the UTF-8 and Parquet copies of analysis.inputs.east) holds bank data:
# its folders are 0700 and its files 0600, this user's. Each entry has a sidecar (``<entry>.json``)
# saying what it was made from and what it was when written, so that it is checked before use.

#: modes of a private cache: folders and files of this user alone
PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


class ForeignFolder(PermissionError):
    """A private folder that belongs to another user, or is no folder: not used (its path is the message)."""


def owned_and_private(info: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else (no group or world write bit).

    (``analysis.state`` keeps the same test for its pickle cache.)"""
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def private_file(info: os.stat_result) -> bool:
    """A regular file (not a link) of this user that no one else may read or write (0600 or less)."""
    return stat.S_ISREG(info.st_mode) and owned_and_private(info) and not info.st_mode & 0o077


def private_folder(folder: Path | str) -> Path:
    """``folder`` ready for private files: created 0700 when missing; an existing folder of this
    user is set to 0700 (one made before may be 0755, or writable by others: what is in it is then
    checked entry by entry). Raises :class:`ForeignFolder` when it belongs to another user or is
    not a folder — what another user can write is never used, and never silently replaced."""
    folder = Path(folder)
    try:
        folder.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    except FileExistsError:
        raise ForeignFolder(str(folder)) from None  # a file or a broken link where the folder should be
    info = os.stat(folder)  # a link is judged by the folder it points to (as analysis.state does)
    if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
        raise ForeignFolder(str(folder))
    if stat.S_IMODE(info.st_mode) != PRIVATE_FOLDER_MODE:
        os.chmod(folder, PRIVATE_FOLDER_MODE)
    return folder


def file_fingerprint(info: os.stat_result) -> dict[str, int]:
    """What a file's metadata says of its content, cheaply: size, modification and change times
    (nanoseconds), inode and device. Writing, truncating or replacing a file changes them, and
    setting its times back (``os.utime``) still changes the change time, which only the kernel sets."""
    return {
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "ctime_ns": info.st_ctime_ns,
        "inode": info.st_ino,
        "device": info.st_dev,
    }


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True


def _remove_stale_temporaries(target: Path) -> None:
    """Temporaries of ``target`` left by processes that no longer run (killed while writing)."""
    prefix = f".{target.name}."
    for leftover in target.parent.glob(f".{target.name}.*.part"):
        pid = leftover.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            leftover.unlink(missing_ok=True)


@contextmanager
def atomic_private_path(target: Path | str) -> Iterator[Path]:
    """:func:`atomic_path` for a private file (0600): the temporary beside ``target`` is named after
    this process and a random token (``.<name>.<pid>-<token>.part``), created exclusively, and moved
    into place with ``os.replace`` only if the block succeeds. Two processes writing the same target
    at once never share a temporary: each moves a whole file into place, the last one stays.
    Temporaries of ``target`` left by a process that no longer runs are removed first."""
    target = Path(target)
    _remove_stale_temporaries(target)
    for _ in range(100):
        tmp_path = target.parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(6)}.part"
        try:
            os.close(os.open(tmp_path, _CREATE_FLAGS, PRIVATE_FILE_MODE))
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free temporary name beside {target} / 无法在缓存目录创建临时文件")
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


#: a sidecar is a few hundred bytes; anything much larger is no sidecar of ours
_SIDECAR_LIMIT = 1 << 16


def sidecar_of(entry: Path | str) -> Path:
    """The sidecar of a private cache entry: ``<entry>.json`` beside it."""
    entry = Path(entry)
    return entry.with_name(entry.name + ".json")


def write_sidecar(entry: Path | str, record: dict) -> Path:
    """``record`` as the JSON sidecar of ``entry``, written atomically, 0600."""
    path = sidecar_of(entry)
    with atomic_private_path(path) as tmp:
        tmp.write_text(json.dumps(record, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return path


def read_sidecar(entry: Path | str) -> dict | None:
    """The sidecar of ``entry``, or None when it is absent, unreadable, not JSON, or not a private
    file of this user (then the entry is not trusted and is made again)."""
    try:
        fd = os.open(sidecar_of(entry), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not private_file(os.fstat(handle.fileno())):
            return None
        data = handle.read(_SIDECAR_LIMIT + 1)
        if len(data) > _SIDECAR_LIMIT:
            return None
        try:
            record = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None
    return record if isinstance(record, dict) else None


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
