"""Child processes that go with their supervisor: a process started by `sayfile serve
--workers N` or `sayfile worker` asks Linux to signal it when its parent dies, even by
SIGKILL, so that it never runs on, orphaned, against a queue nobody feeds."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
# The supervisor's pid, set by `sayfile worker` for its children: a child whose parent died
# before it asked to be told would otherwise never hear of it.
SUPERVISOR_ENV = "SAYFILE_SUPERVISOR_PID"


def go_with_parent(sig: signal.Signals = signal.SIGTERM) -> None:
    """Have `sig` sent to this process when its parent ends (Linux; elsewhere nothing). If
    the parent named in SAYFILE_SUPERVISOR_PID is gone already, `sig` is sent at once."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, sig) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    expected = os.environ.get(SUPERVISOR_ENV)
    if expected and os.getppid() != int(expected):
        os.kill(os.getpid(), sig)
