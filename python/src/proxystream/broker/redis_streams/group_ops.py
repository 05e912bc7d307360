"""Consumer-group commands, as ``group-ops.ts`` and ``stream-ids.ts``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import redis

from ...errors import ConfigError

_ID = re.compile(r"(\d+)(?:-(\d+))?")
_HAND_BACK_BATCH = 1000


@dataclass(frozen=True)
class StreamEntry:
    """One stream entry as read: its stream key, id, fields and how many times its group delivered it."""

    stream: str
    id: str
    fields: dict[str, bytes]
    count: int = 1


def compare_ids(a: str, b: str) -> int:
    """Orders two stream entry ids (``ms-seq``): negative, 0 or positive."""
    left, right = _id_parts(a), _id_parts(b)
    return (left > right) - (left < right)


def group_start_id(start: str) -> str:
    """The XGROUP CREATE start id of ``'earliest'`` (``0``) or ``'latest'`` (``$``)."""
    if start == "earliest":
        return "0"
    if start == "latest":
        return "$"
    raise ConfigError("start must be 'earliest' or 'latest'")


def entries(stream: str, raw: Any, count: int = 1) -> list[StreamEntry]:
    """``[(id, {field: value})]`` as entries; entries whose fields are gone (deleted) are skipped."""
    found: list[StreamEntry] = []
    for entry_id, fields in raw or []:
        if fields is None:
            continue
        found.append(StreamEntry(stream, _text(entry_id), {_text(name): value for name, value in fields.items()}, count))
    return found


def ensure_groups(client: redis.Redis, streams: Sequence[str], group: str, start_id: str) -> None:
    """Creates the group on each stream (and the stream itself) unless it exists."""
    for stream in streams:
        try:
            client.xgroup_create(stream, group, start_id, mkstream=True)
        except redis.exceptions.ResponseError as error:
            if not str(error).startswith("BUSYGROUP"):
                raise


def auto_claim(client: redis.Redis, stream: str, group: str, consumer: str, min_idle_ms: int, count: int) -> list[StreamEntry]:
    """Claims entries idle for at least ``min_idle_ms`` (XAUTOCLAIM), up to ``count``, with their delivery counts."""
    claimed: list[StreamEntry] = []
    cursor = "0-0"
    while True:
        reply = client.xautoclaim(stream, group, consumer, min_idle_ms, cursor, count=count - len(claimed))
        cursor = _text(reply[0])
        claimed.extend(entries(stream, reply[1]))
        if cursor == "0-0" or len(claimed) >= count:
            break
    if not claimed:
        return []
    pipeline = client.pipeline(transaction=False)
    for entry in claimed:
        pipeline.xpending_range(stream, group, min=entry.id, max=entry.id, count=1)
    rows = pipeline.execute()
    return [
        StreamEntry(entry.stream, entry.id, entry.fields, int(row[0]["times_delivered"]) if row else 1)
        for entry, row in zip(claimed, rows)
    ]


def hand_back(client: redis.Redis, stream: str, group: str, consumer: str, idle_ms: int) -> None:
    """Hands this consumer's pending entries back: idle past the timeout, so any live consumer's XAUTOCLAIM takes them now."""
    start = "-"
    while True:
        rows = client.xpending_range(stream, group, min=start, max="+", count=_HAND_BACK_BATCH, consumername=consumer)
        ids: list[Any] = [_text(row["message_id"]) for row in rows]
        if ids:
            client.xclaim(stream, group, consumer, 0, ids, idle=idle_ms, justid=True)
        if len(ids) < _HAND_BACK_BATCH:
            return
        start = f"({ids[-1]}"


def settled_before(client: redis.Redis, stream: str, group: str, eos_id: str) -> bool:
    """True when ``group`` has delivered past ``eos_id`` and holds no pending entry before it."""
    row = next((row for row in client.xinfo_groups(stream) if _text(row["name"]) == group), None)
    last_delivered = None if row is None else row.get("last-delivered-id")
    if last_delivered is None or compare_ids(_text(last_delivered), eos_id) < 0:
        return False
    pending = client.xpending(stream, group)
    oldest = pending.get("min")
    return int(pending.get("pending", 0)) == 0 or oldest is None or compare_ids(_text(oldest), eos_id) > 0


def _id_parts(entry_id: str) -> tuple[int, int]:
    match = _ID.fullmatch(entry_id)
    if match is None:
        raise ConfigError(f"not a Redis stream entry id: {entry_id!r}")
    return int(match.group(1)), int(match.group(2) or 0)


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)
