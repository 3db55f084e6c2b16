"""Regular files only: a FIFO blocks a reader forever and a device never ends, so both are refused
by type before they are opened, with the path and what it is."""

import errno
import os
import stat

from atlas.core.errors import BadInput


def kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return None if stat.S_ISREG(mode) else "not a regular file"


def _why(path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symlink loop"
    if exc.errno == errno.ENOENT:
        return "a dangling symlink (its target does not exist)" if os.path.islink(path) else "no such file"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return f"cannot read it: {exc.strerror or exc}"


def check_regular(path: str | os.PathLike, what: str | None = None) -> os.stat_result:
    """The stat of `path` (links followed) when it is a regular file; BadInput naming what it is else."""
    what = what or str(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise BadInput(f"{what}: {_why(path, exc)}") from None
    kind = kind_of(st.st_mode)
    if kind is not None:
        if kind == "a folder" and not os.access(path, os.R_OK | os.X_OK):
            raise BadInput(f"{what}: a folder that cannot be read (permission denied)")
        raise BadInput(f"{what}: is {kind}, not a regular file")
    return st


def open_regular(path: str | os.PathLike, what: str | None = None):
    """`path` opened for binary reading, refused unless it is a regular file. Opened non-blocking
    and checked again on the open file, so a FIFO swapped in after the first check cannot block."""
    what = what or str(path)
    check_regular(path, what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise BadInput(f"{what}: {_why(path, exc)}") from None
    kind = kind_of(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise BadInput(f"{what}: is {kind}, not a regular file")
    return os.fdopen(fd, "rb")
