"""glibc allocator tuning for a process that reads large payloads, as the TypeScript engine does for its process
pool's children (``docs/stores.md``, "glibc's allocator").

Every payload read lands in a new buffer, and ``resolve()`` of a ``bytes`` payload copies it once more into a
``bytes`` object. With glibc's defaults, freeing those buffers hands their pages back to the kernel (glibc trims its
heap once twice the largest block freed so far lies free at its top), so every next payload is read into fresh pages
that the kernel faults in and zeroes: in the dispatcher hop at 10 MB that was about half of a worker's CPU. The
tuning keeps blocks under 32 MiB in the heap and up to 128 MiB of freed memory there, through ``mallopt``, which,
unlike Node, a running Python process can call.
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import Literal

HEAP_TUNING_ENV = "PROXYSTREAM_HEAP_TUNING"
"""The environment variable that turns the tuning off (``off``, ``0`` or ``false``), shared with TypeScript."""

LARGE_READ_BYTES = 64 * 1024
"""A payload read of at least this many bytes turns the tuning on."""

MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
"""Blocks under this size come from glibc's heap rather than mappings of their own (glibc's largest setting)."""

TRIM_THRESHOLD_BYTES = 128 * 1024 * 1024
"""Freed memory glibc keeps at the top of its heap before it hands pages back to the kernel."""

# mallopt's parameter numbers, from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_state: Literal["off", "on"] | None = None
_lock = threading.Lock()


def note_read(size: int) -> None:
    """Notes a payload read of ``size`` bytes into a new buffer. The first of at least :data:`LARGE_READ_BYTES` in
    a process tunes glibc's allocator for it, once. Left off when :data:`HEAP_TUNING_ENV` says so, when the
    environment sets ``GLIBC_TUNABLES`` or a ``MALLOC_*`` variable (the user's own choice stands), and where the C
    library is not glibc. The cost: a process keeps up to 128 MiB of freed memory instead of returning it at once."""
    global _state
    if _state is not None or size < LARGE_READ_BYTES:
        return
    with _lock:
        if _state is None:
            _state = "on" if _allowed() and _tune() else "off"


def allocator_tuning_state() -> Literal["off", "idle", "on"]:
    """Whether this process tunes its allocator for payloads: ``'idle'`` until its first large read (when allowed)."""
    return _state or ("idle" if _allowed() else "off")


def _allowed() -> bool:
    if os.environ.get(HEAP_TUNING_ENV, "").strip().lower() in ("off", "0", "false"):
        return False
    if "GLIBC_TUNABLES" in os.environ or any(name.startswith("MALLOC_") for name in os.environ):
        return False
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError):
        return False


def _tune() -> bool:
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
