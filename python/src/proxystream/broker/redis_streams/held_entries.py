"""The entries a consumer holds, kept from being claimed away while it works on them (``held-entries.ts``)."""

from __future__ import annotations

import threading
from typing import Any

import redis

_REFRESH_BATCH = 256


class HeldEntries:
    """Entries delivered and not yet acked or nacked.

    A daemon thread resets their idle time (``XCLAIM ... IDLE 0 JUSTID``) every third of the visibility
    timeout, so an entry a live consumer is still working on is never claimed by XAUTOCLAIM (its own or
    another's) and delivered twice. Only a consumer that stopped (crashed, or its process stalled) loses them.
    """

    def __init__(self, commands: redis.Redis, group: str, consumer: str, visibility_timeout_ms: int) -> None:
        self._commands = commands
        self._group = group
        self._consumer = consumer
        self._held: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._interval = max(50, visibility_timeout_ms / 3) / 1000
        self._thread = threading.Thread(target=self._loop, name=f"proxystream-held-{consumer}", daemon=True)
        self._thread.start()

    def hold(self, stream: str, entry_id: str) -> None:
        with self._lock:
            self._held.setdefault(stream, set()).add(entry_id)

    def release(self, stream: str, entry_id: str) -> None:
        with self._lock:
            self._held.get(stream, set()).discard(entry_id)

    def stop(self) -> None:
        """Stops refreshing and forgets every entry."""
        self._stopped.set()
        with self._lock:
            self._held.clear()

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._refresh()
            except redis.exceptions.RedisError:
                continue

    def _refresh(self) -> None:
        with self._lock:
            held = [(stream, sorted(ids)) for stream, ids in self._held.items() if ids]
        for stream, ids in held:
            for start in range(0, len(ids), _REFRESH_BATCH):
                batch: list[Any] = ids[start : start + _REFRESH_BATCH]
                self._commands.xclaim(stream, self._group, self._consumer, 0, batch, idle=0, justid=True)
