"""``trim_acked`` of the Redis Streams adapter: trims what every consumer group is done with, by the
TypeScript adapter's own script (``trim-acked-2.lua``, see ``acked-trim.ts``)."""

from __future__ import annotations

import math
import threading
import time
from typing import Iterable

import redis

from ...store.redis.lua import REPOSITORY, load_lua

_TRIM_ACKED = load_lua("trim-acked-2.lua", __package__, REPOSITORY / "src" / "broker-adapters" / "redis-streams")

TRIM_INTERVAL_S = 1.0
"""Least time between two trims of one stream by one subscriber."""


def trim_acked(commands: redis.Redis, stream: str, eos_key: str) -> int:
    """Trims the entries of ``stream`` every group of it is done with (below each group's oldest pending entry
    and its last delivered one), never the end-of-stream entry recorded in ``eos_key``, and nothing while the
    stream has no group. Returns how many entries went (Redis trims whole nodes, so a few may stay)."""
    try:
        reply = commands.evalsha(_TRIM_ACKED.sha, 2, stream, eos_key)
    except redis.exceptions.NoScriptError:
        reply = commands.eval(_TRIM_ACKED.source, 2, stream, eos_key)
    return int(reply)


class AckedTrim:
    """A subscriber's trimming under ``trim_acked``: once its acks of a stream were taken, trims what every
    group is done with, at most once per :data:`TRIM_INTERVAL_S` per stream; acks within the interval get one
    trim at its end (a daemon timer), so the last acks of a burst are trimmed too. Best effort: a failed trim
    (a connection down) is left to the next one."""

    def __init__(self, commands: redis.Redis, eos_keys: dict[str, str]) -> None:
        self._commands = commands
        self._eos_keys = eos_keys
        self._last: dict[str, float] = {}
        self._later: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()
        self._closed = False

    def acked(self, streams: Iterable[str]) -> None:
        """Notes that acks of ``streams`` were taken: trims each now, or at the end of its interval."""
        for stream in streams:
            with self._lock:
                if self._closed or stream not in self._eos_keys or stream in self._later:
                    continue
                wait = self._last.get(stream, -math.inf) + TRIM_INTERVAL_S - time.monotonic()
                if wait > 0:
                    timer = threading.Timer(wait, self._at_interval_end, (stream,))
                    timer.daemon = True
                    self._later[stream] = timer
                    timer.start()
                    continue
                self._last[stream] = time.monotonic()
            self._trim(stream)

    def close(self) -> None:
        """Runs the trims still waiting for their interval now (a closing subscriber's last acks)."""
        with self._lock:
            self._closed = True
            waiting = list(self._later.items())
            self._later.clear()
        for stream, timer in waiting:
            timer.cancel()
            self._trim(stream)

    def _at_interval_end(self, stream: str) -> None:
        with self._lock:
            if self._later.pop(stream, None) is None:
                return
            self._last[stream] = time.monotonic()
        self._trim(stream)

    def _trim(self, stream: str) -> None:
        try:
            trim_acked(self._commands, stream, self._eos_keys[stream])
        except redis.exceptions.RedisError:
            pass
