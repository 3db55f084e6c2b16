"""Reader processes that die with the import that started them.

A worker of a process pool waits on pipes its siblings also hold open, so a SIGKILLed parent never
closes them: the workers would wait for minutes, holding the catalogue and the caller's pipes.
Each worker therefore asks Linux to kill it when its parent dies (prctl PR_SET_PDEATHSIG), and
on every system also watches the importing process from a thread, leaving as soon as it is gone
(the pool's parent may not be the importing process: a fork server starts the workers under the
"forkserver" and "spawn" start methods).
"""

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL_S = 0.5


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, another user's (cannot happen for our own parent, but is alive)
        return True
    return True


def _watch(pid: int, parent: int) -> None:
    # A killed importer stays a zombie (kill(pid, 0) succeeds) until its own parent reaps it; its
    # children are handed to another parent at once, which getppid() sees.
    while alive(pid) and os.getppid() == parent:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)  # no clean-up to do: the process that would read our results is gone


def die_with(importer_pid: int) -> None:
    """Process-pool initializer: end this worker when process `importer_pid` ends."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no usable libc: the watch below still ends us
            pass
    if not alive(importer_pid):  # it died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(importer_pid, os.getppid()), name="atlas-importer-watch",
                     daemon=True).start()
