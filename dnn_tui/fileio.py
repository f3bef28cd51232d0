"""Files on disk: atomic writes, a folder held open by its descriptor, careful reads.

Runs without any UI.

- Atomic writes: a temp file in the same folder, fsync, then ``os.replace``; an
  interrupted save leaves the previous file intact. Files are created with mode 0666
  and the process's umask applied by the kernel, as any other program's files are, so
  a shared runs folder is readable by a team (a umask of 077 keeps them private).
- ``Folder`` holds a directory open by its file descriptor and writes relative to it:
  a run keeps writing into the directory it claimed even when a path to it is renamed,
  and when the directory is deleted its writes fail instead of quietly making a new,
  half directory at the old path.
- ``read_small_file`` reads only regular files up to a size limit, and never blocks on a
  FIFO: run files and liveness records come from disks anybody may have written to;
  ``read_file_head`` reads the first bytes of such a file (a header) with the same care.
- ``visible`` makes the control characters of text from a file or a path visible before it
  reaches a terminal: a run folder, a preset or a description may hold an escape sequence
  that retitles the window or writes the clipboard; ``spreadsheet_cell`` keeps a CSV cell
  from being read as a formula.
"""

from __future__ import annotations

import difflib
import errno
import math
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

FILE_MODE = 0o666
"""Mode of new files before the umask (the umask is applied by the kernel)."""


# --- text that repeats what a user or a file gave ----------------------------------------

ECHO_LIMIT = 40
"""Characters of a user's value a message repeats; longer values are cut with an ellipsis."""
PATH_ECHO_LIMIT = 200
"""Characters of a path a message repeats (head and tail kept, so the file name shows)."""


def _control_escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


CONTROLS = {
    code: _control_escape(code)
    for code in (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x202E)
}
"""What ``visible`` replaces: C0 controls, DEL, C1 controls (CSI is U+009B, OSC U+009D), and
the line and paragraph separators and right-to-left override, which a terminal or a log
viewer may also act on."""


def visible(text: object) -> str:
    """``str(text)`` with every control character written as a Python-style escape (ESC as
    ``\\x1b``, a newline as ``\\x0a``, CSI as ``\\x9b``), so that text from a file or a
    path is shown, never obeyed: a description holding ``ESC ] 0 ; ... BEL`` would retitle the
    terminal, OSC 52 would write its clipboard. Other characters, backslashes included, are
    kept; the result holds no control character, so a second call changes nothing."""
    return str(text).translate(CONTROLS)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection)."""
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs: a run folder named
    ``=HYPERLINK(...)`` or ``+cmd`` would be a formula in ``compare --csv``'s file. As OWASP
    recommends, a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a single quote in front. Numbers, and text that is exactly a decimal number
    (``-0.5``, ``1e-05``), are left as they are, so a negative number stays a number. A
    cell that already starts with a quote is kept, so a second call changes nothing."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def shorten(value: Any, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` cut to about ``limit`` characters, saying how long the whole was.

    Every message that repeats a user's value goes through here: a pasted 100,000-character
    value must not come back as a 100,000-character error line.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        # str() of an int with more than 4300 digits raises; nobody reads 39 digits anyway.
        digits = int(value.bit_length() * math.log10(2)) + 1
        return f"an integer of about {digits} digits"
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str) else len(text)
    return f"{text[: limit - 1]}… ({size} characters)"


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """``; did you mean 'train'?`` for the choice closest to a mistyped word, else ``""``.

    Case and ``_``/``-`` are ignored when matching (``--leaky-relu`` finds ``leaky_relu``).
    """
    if not isinstance(word, str) or not word:
        return ""
    by_key = {_match_key(choice): choice for choice in choices}
    close = difflib.get_close_matches(_match_key(word), list(by_key), n=1, cutoff=0.6)
    return f"; did you mean {by_key[close[0]]!r}?" if close else ""


def _match_key(word: str) -> str:
    return word.lower().replace("_", "-").lstrip("-")


def shorten_path(path: str | Path, limit: int = PATH_ECHO_LIMIT) -> str:
    """A path for a message: whole when short, else its head and tail around an ellipsis."""
    text = visible(path)
    if len(text) <= limit:
        return text
    keep = (limit - 1) // 2
    return f"{text[:keep]}…{text[-keep:]}"


MAX_MESSAGE = 1000
"""Longest error line. Values are shortened where a message echoes them; this bounds any other
message (a library's, say) that repeats a huge input."""


def error_line(error: BaseException, limit: int = MAX_MESSAGE) -> str:
    """One line naming what went wrong: the message of our own errors and of ValueErrors, the
    file of an OSError, the type and message of anything else, advice for running out of
    memory, control characters made visible. Every failure shown to a user (stderr, a run's
    files, the dashboard) says it so."""
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, MemoryError) or "out of memory" in text.lower():
        text = f"out of memory ({text}); try a smaller model, batch or --limit"
    elif isinstance(error, OSError) and error.filename is not None:
        text = f"{shorten_path(error.filename)}: {error.strerror or text}"
    elif not (type(error).__module__.startswith("dnn_tui") or isinstance(error, ValueError)):
        text = f"{type(error).__name__}: {text}"
    text = visible(text)  # a path or a file's words may hold escape sequences
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


class FileRefused(OSError):
    """A file that is not read: not a regular file, or larger than the limit."""


def _temp_name(name: str) -> str:
    return f".{name}.{secrets.token_hex(4)}.tmp"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _replace_in(
    folder: int,
    name: str,
    data: bytes,
    *,
    fsync: bool = True,
    before_rename: Callable[[], None] | None = None,
) -> None:
    """Replace ``name`` in the folder open as ``folder`` with data, atomically: a temp file
    beside it, fsync, rename. ``before_rename`` may refuse at the last moment; the temp file
    never outlives a failure."""
    tmp = _temp_name(name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    fd = os.open(tmp, flags, FILE_MODE, dir_fd=folder)
    try:
        try:
            _write_all(fd, data)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if before_rename is not None:
            before_rename()
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with _suppress_oserror():
            os.unlink(tmp, dir_fd=folder)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace path with data so that readers see the old or the new file, never a mix.

    The folder must exist: a write never creates a folder a user (or a test) deleted.
    """
    path = Path(path)
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _replace_in(folder, path.name, data)
    finally:
        os.close(folder)


def atomic_write_text(path: Path, text: str) -> None:
    """atomic_write_bytes for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


class WriteRefused(OSError):
    """A file a user named that is not written: a link, a FIFO, a device, a run's own file."""


def write_user_file(
    path: Path, data: bytes, *, guarded_by: Iterable[str] = (), reserved: Iterable[str] = ()
) -> None:
    """Write a file a user named (``compare --csv FILE``) atomically, only as a new or a
    regular file: a symlink, a FIFO, a device or a folder there is refused by name, never
    followed or replaced. In a folder holding any of ``guarded_by`` (a run's or a sweep's
    files), only a new file whose name is not in ``reserved`` is written: a mistyped
    ``--csv runs/x/history.json`` must not replace the run's record. Everything is done
    relative to a descriptor of the folder, and the target is checked again just before the
    rename, so a file swapped for a link meanwhile is refused too."""
    path = Path(path)
    name = path.name
    if not name or name in (".", ".."):
        raise WriteRefused(errno.EISDIR, "a folder: name a file", str(path))
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:

        def present(entry: str) -> os.stat_result | None:
            try:
                return os.stat(entry, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                return None

        def check() -> None:
            info = present(name)
            if info is not None and stat.S_ISLNK(info.st_mode):
                raise WriteRefused(
                    errno.ELOOP, "a symbolic link: only a new or regular file is written", str(path)
                )
            if info is not None and not stat.S_ISREG(info.st_mode):
                raise WriteRefused(
                    errno.EINVAL,
                    f"{file_kind(info.st_mode)}: only a new or regular file is written",
                    str(path),
                )
            marker = next((m for m in guarded_by if present(m) is not None), None)
            if marker is not None and (info is not None or name in set(reserved)):
                raise WriteRefused(
                    errno.EEXIST,
                    f"the folder holds a run or a sweep ({marker}): only a new file whose name "
                    "is not one of its files is written there",
                    str(path),
                )

        check()
        _replace_in(folder, name, data, before_rename=check)
    finally:
        os.close(folder)


class Folder:
    """A directory held open by its descriptor; every write is relative to it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        """The path the folder was opened by (for messages)."""
        self._fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _check(self) -> None:
        """Deleted folders keep their descriptor but take no new files: say which one it was."""
        if os.fstat(self._fd).st_nlink == 0:
            raise FileNotFoundError(
                errno.ENOENT, "the run directory was deleted while the run went on", str(self.path)
            )

    def write_atomic(self, name: str, data: bytes, *, fsync: bool = True) -> None:
        """Replace the file ``name`` in the folder atomically (temp file, fsync, rename)."""
        self._check()
        try:
            _replace_in(self._fd, name, data, fsync=fsync)
        except OSError as error:
            raise type(error)(error.errno, error.strerror, str(self.path / name)) from None

    def open_append(self, name: str) -> int:
        """A descriptor that appends to ``name`` in the folder (created when missing); as
        ``open_read_create``, never through a symbolic link and only to a regular file."""
        self._check()
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        return open_regular(name, flags, dir_fd=self._fd, shown=str(self.path / name))

    def open_read_create(self, name: str) -> int:
        """A read-only descriptor of ``name`` in the folder, created empty when missing.

        Someone else may have put ``name`` there first: a symbolic link is not followed, a FIFO
        is not waited on, and anything but a regular file is refused (``open_regular``).
        """
        self._check()
        flags = os.O_RDONLY | os.O_CREAT
        return open_regular(name, flags, dir_fd=self._fd, shown=str(self.path / name))

    def read(self, name: str, limit: int) -> bytes:
        """The bytes of the regular file ``name`` in the folder, of at most ``limit`` (never
        through a symbolic link nor waiting on a FIFO: ``open_regular``)."""
        fd = open_regular(name, os.O_RDONLY, dir_fd=self._fd, shown=str(self.path / name))
        try:
            data = _read_up_to(fd, limit + 1)
        finally:
            os.close(fd)
        if len(data) > limit:
            raise FileRefused(
                errno.EFBIG, f"more than the {limit:,} bytes allowed", str(self.path / name)
            )
        return data

    def create_exclusive(self, name: str, data: bytes) -> None:
        """Create ``name`` with data; FileExistsError when it is there already (a claim)."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        fd = os.open(name, flags, FILE_MODE, dir_fd=self._fd)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def rename(self, name: str, new: str) -> None:
        """Rename ``name`` to ``new`` in the folder (atomic: of two renames of one file, one
        finds it gone)."""
        os.rename(name, new, src_dir_fd=self._fd, dst_dir_fd=self._fd)

    def remove(self, name: str) -> None:
        """Remove ``name`` from the folder if it is there."""
        with _suppress_oserror(errno.ENOENT):
            os.unlink(name, dir_fd=self._fd)


def open_regular(
    path: str | Path, flags: int, *, dir_fd: int | None = None, shown: str | None = None
) -> int:
    """A descriptor of the regular file at path (relative to ``dir_fd`` when given), opened
    with flags and never through a symbolic link (O_NOFOLLOW) nor waiting on a FIFO
    (O_NONBLOCK): files in a run directory may have been put there by anyone. FileRefused
    names a link, a FIFO, a device or a folder; other errors (FileNotFoundError ...) keep
    their type. ``shown`` is the path messages name (default: path)."""
    shown = shown if shown is not None else str(path)
    flags |= os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, FILE_MODE, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise FileRefused(errno.ELOOP, "a symbolic link, not followed", shown) from None
        if error.errno == errno.ENXIO:  # O_WRONLY | O_NONBLOCK on a FIFO nobody reads
            raise FileRefused(errno.ENXIO, "a FIFO, not a regular file", shown) from None
        raise type(error)(error.errno, error.strerror, shown) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileRefused(errno.EINVAL, f"{file_kind(mode)}, not a regular file", shown)
    except BaseException:
        os.close(fd)
        raise
    return fd


class _suppress_oserror:
    """Like contextlib.suppress for OSError, optionally only for the given errno values."""

    def __init__(self, *codes: int) -> None:
        self._codes = codes

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, error: BaseException | None, _tb: object) -> bool:
        if not isinstance(error, OSError):
            return False
        return not self._codes or error.errno in self._codes


def file_kind(mode: int) -> str:
    """What a file that is not regular is, in words, for messages."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _open_regular(path: Path, limit: int) -> tuple[int, int]:
    """A descriptor of path opened without blocking, and its size; FileRefused when it is not a
    regular file of at most ``limit`` bytes (checked on the opened file, after symlinks)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(
                errno.EINVAL, f"{file_kind(info.st_mode)}, not a regular file", str(path)
            )
        if info.st_size > limit:
            raise FileRefused(
                errno.EFBIG, f"{info.st_size:,} bytes, more than the {limit:,} allowed", str(path)
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def _read_up_to(fd: int, count: int) -> bytes:
    chunks, size = [], 0
    while size < count:
        chunk = os.read(fd, min(1 << 20, count - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def read_small_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Opens without blocking (a FIFO would wait for a writer forever) and checks the
    opened file itself, so a symlink to ``/dev/zero`` is refused, not read until memory
    runs out. Raises FileNotFoundError, FileRefused or another OSError naming the path.
    """
    path = Path(path)
    fd, _ = _open_regular(path, limit)
    try:
        data = _read_up_to(fd, limit + 1)
        if len(data) > limit:  # grew while it was read
            raise FileRefused(errno.EFBIG, f"more than the {limit:,} bytes allowed", str(path))
        return data
    finally:
        os.close(fd)


def read_file_head(path: Path, count: int, limit: int) -> tuple[bytes, int]:
    """The first ``count`` bytes (fewer when the file is shorter) of a regular file of at most
    ``limit`` bytes, and the file's size; refuses what ``read_small_file`` refuses."""
    path = Path(path)
    fd, size = _open_regular(path, limit)
    try:
        return _read_up_to(fd, count), size
    finally:
        os.close(fd)
