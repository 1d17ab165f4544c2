"""Worker processes die with the process that started them.

A killed parent (kill -9 of `imitate`, `study`, `sweep`, `train --nproc`) must not leave its pool
workers training on, writing into the run and holding memory. Every worker calls `die_with_parent`
first: on Linux the kernel then sends it SIGKILL when its parent dies (PR_SET_PDEATHSIG); elsewhere a
daemon thread watches the parent's pid. Work they leave half done is what a killed run leaves, and
`--resume` handles that; the run directory's lock (`rundir.lock`) keeps a straggler and a resumed
run apart in any case. (`train --nproc` ranks come from torch's spawn, which does the same.)
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """In a worker started by process `parent`: end this process when `parent` ends."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before the request: nobody will signal
                os._exit(1)
            return
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="parent-watch").start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)
