"""``trim_acked`` of the Redis Streams adapter: trims what every consumer group is done with, by the
TypeScript adapter's own script (``trim-acked-2.lua``, see ``acked-trim.ts``)."""

from __future__ import annotations

import math
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
    """A subscriber's trimming under ``trim_acked``: once its acks of a stream were taken, at most once per
    :data:`TRIM_INTERVAL_S` per stream, trims what every group is done with. Best effort: a failed trim (a
    connection down) is left to the next one."""

    def __init__(self, commands: redis.Redis, eos_keys: dict[str, str]) -> None:
        self._commands = commands
        self._eos_keys = eos_keys
        self._last: dict[str, float] = {}

    def acked(self, streams: Iterable[str]) -> None:
        now = time.monotonic()
        for stream in streams:
            eos_key = self._eos_keys.get(stream)
            if eos_key is None or now - self._last.get(stream, -math.inf) < TRIM_INTERVAL_S:
                continue
            self._last[stream] = now
            try:
                trim_acked(self._commands, stream, eos_key)
            except redis.exceptions.RedisError:
                pass
