"""Helper processes that must not outlive the process that started them."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal


def die_with_parent(parent: int | None = None) -> None:
    """Linux: have the kernel kill this process when its parent ends (``PR_SET_PDEATHSIG``);
    a no-op elsewhere. With ``parent`` (its pid, known before the fork or spawn), exit now if
    that parent already ended before the signal was armed."""
    try:
        ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).prctl(1, signal.SIGKILL)
    except (AttributeError, OSError, TypeError):
        return
    if parent is not None and os.getppid() != parent:
        os._exit(0)
