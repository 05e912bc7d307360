"""The bookkeeping of the Kafka adapter shared with TypeScript: commit notes (``commit-note.ts``), the offset
tracker (``offset-tracker.ts``) and one partition's state in a group generation (``partition-state.ts``)."""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

EOS_HEADER = "ps-eos"
"""Header marking an end-of-stream record; its value is ``1`` (``EOS_HEADER`` in ``driver.ts``)."""
_NOTE_PREFIX = "ps1:"


@dataclass(frozen=True)
class CommitNote:
    """What a commit's metadata records (``commit-note.ts``): ``eos`` offset of the end marker the commit
    passed, ``delivered`` highest offset ever handed to a reader, ``head_count`` deliveries so far of the
    message at the committed offset."""

    eos: int | None = None
    delivered: int | None = None
    head_count: int | None = None


def encode_commit_note(note: CommitNote) -> str:
    """``ps1:{"e":..,"d":..,"h":..}``, byte for byte as ``encodeCommitNote``."""
    compact = {name: value for name, value in (("e", note.eos), ("d", note.delivered), ("h", note.head_count)) if value is not None}
    return _NOTE_PREFIX + json.dumps(compact, separators=(",", ":"))


def decode_commit_note(metadata: str | None) -> CommitNote:
    """Decodes a note; anything else (None, another tool's metadata, garbage) is an empty note.

    What follows the note's JSON object is ignored: the trailing NUL every commit's metadata ends with, or the
    bytes :func:`committed_metadata` may bring along when a commit had none.
    """
    if not isinstance(metadata, str) or not metadata.startswith(_NOTE_PREFIX):
        return CommitNote()
    try:
        raw, _ = json.JSONDecoder().raw_decode(metadata, len(_NOTE_PREFIX))
    except ValueError:
        return CommitNote()
    if not isinstance(raw, dict):
        return CommitNote()

    def field(name: str) -> int | None:
        value = raw.get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON.parse reads 1.0 as the integer 1
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**53 - 1
        return value if ok else None

    return CommitNote(eos=field("e"), delivered=field("d"), head_count=field("h"))


def committed_metadata(found: Any) -> str | None:
    """The metadata of a committed offset (a confluent-kafka ``TopicPartition``). confluent-kafka reads it as a C
    string, so metadata committed without a trailing NUL (by TypeScript members before they added one) comes
    with whatever bytes follow it in memory: kept up to the first one that is not UTF-8, the rest being left to
    :func:`decode_commit_note`, rather than failing with UnicodeDecodeError."""
    try:
        metadata: str | None = found.metadata
    except UnicodeDecodeError as cause:
        metadata = bytes(cause.object[: cause.start]).decode("utf-8")
    return metadata


class OffsetTracker:
    """Open (delivered, unsettled) offsets of one partition; the committable offset is the first open one,
    or one past the last tracked one (``offset-tracker.ts``)."""

    def __init__(self, start: int) -> None:
        self._order: deque[int] = deque()
        self._open: set[int] = set()
        self._next = start

    def track(self, offset: int) -> bool:
        if offset < self._next:
            return False
        self._order.append(offset)
        self._open.add(offset)
        self._next = offset + 1
        return True

    def settle(self, offset: int) -> bool:
        if offset not in self._open:
            return False
        self._open.discard(offset)
        while self._order and self._order[0] not in self._open:
            self._order.popleft()
        return True

    def committable(self) -> int:
        return self._order[0] if self._order else self._next


class PartitionState:
    """One assigned partition during one generation (``partition-state.ts``): tracker, delivery counts, end marker, last commit."""

    def __init__(self, topic: str, partition: int, committed: int, metadata: str | None) -> None:
        self.topic = topic
        self.partition = partition
        self._tracker = OffsetTracker(committed) if committed >= 0 else None
        self._skip_below = 0
        self._counts: dict[int, int] = {}
        self._prior = decode_commit_note(metadata)
        self._prior_committed = committed
        self._eos = self._prior.eos if self._prior.eos is not None and self._prior.eos < committed else None
        self._delivered = self._prior.delivered if self._prior.delivered is not None else -1
        self._last: tuple[int, str | None] = (committed, metadata)

    def start_at(self, offset: int) -> None:
        """Reads from ``offset`` on (a start position); the group commits it at once."""
        self._tracker = OffsetTracker(offset)
        self._skip_below = offset

    def track(self, offset: int) -> bool:
        if self._tracker is None:
            self._tracker = OffsetTracker(offset)
        return offset >= self._skip_below and self._tracker.track(offset)

    def next_count(self, offset: int) -> int:
        known = self._counts.get(offset)
        if known is not None:
            return known + 1
        if offset == self._prior_committed and self._prior.head_count is not None:
            return self._prior.head_count + 1
        if self._prior.delivered is not None and offset <= self._prior.delivered:
            return 2
        return 1

    def delivered(self, offset: int, count: int) -> None:
        self._counts[offset] = count
        self._delivered = max(self._delivered, offset)

    def settle(self, offset: int) -> bool:
        self._counts.pop(offset, None)
        return self._tracker is not None and self._tracker.settle(offset)

    def end_of_stream(self, offset: int) -> None:
        self._eos = offset
        self.settle(offset)

    def pending_commit(self) -> tuple[int, str] | None:
        if self._tracker is None:
            return None
        offset = self._tracker.committable()
        note = CommitNote(
            eos=self._eos if self._eos is not None and self._eos < offset else None,
            delivered=self._delivered if self._delivered >= offset else None,
            # The group's count of the head message holds until this member delivers it again.
            head_count=self._counts.get(offset, self._prior.head_count if offset == self._prior_committed else None),
        )
        metadata = encode_commit_note(note)
        return None if (offset, metadata) == self._last else (offset, metadata)

    def committed(self, commit: tuple[int, str]) -> None:
        self._last = commit


def parse_offset_spec(spec: str, partitions: list[int]) -> dict[int, int]:
    """``'42'`` (every partition at 42), ``'1:42'`` (a Delivery.position: partition 1 at 42) or a list
    ``'0:10,1:42'``, as ``parseOffsetSpec`` in ``start-position.ts``; raises ConfigError on anything else."""
    offsets: dict[int, int] = {}
    for part in spec.split(","):
        match = re.fullmatch(r"\s*(?:(\d+):)?(\d+)\s*", part)
        if match is None:
            raise ConfigError(f"invalid Kafka start offset {json.dumps(spec)}: want 'offset', 'partition:offset' or a comma list")
        offset = int(match.group(2))
        if match.group(1) is None:
            offsets.update((partition, offset) for partition in partitions)
        else:
            offsets[int(match.group(1))] = offset
    return offsets
