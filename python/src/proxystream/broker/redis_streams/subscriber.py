"""One consumer of a Redis Streams consumer group, as ``redis-streams-subscriber.ts``."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import redis

from ... import errors
from ...redis_client import connection_error
from ...wire import FailedMessage, dead_letter_message, decode_dead_letter, is_dead_letter
from ..base import SubscriberBase
from ..types import Delivery
from .context import StreamsContext
from .group_ops import StreamEntry, auto_claim, ensure_groups, entries, hand_back, settled_before
from .ack_batcher import AckBatcher
from .acked_trim import AckedTrim
from .held_entries import HeldEntries

_END_POLL_MS = 25
"""How often a subscriber that has seen an end marker checks whether its group settled before it."""


@dataclass(frozen=True)
class _EndMark:
    id: str
    value: bytes
    key: str


class RedisStreamsSubscriber(SubscriberBase):
    """XREADGROUP on its own blocking connection, XACK on ack, XAUTOCLAIM for entries idle past the
    visibility timeout (redelivery, with delivery counts), the dead-letter stream past ``max_deliveries``,
    and one end-of-stream :class:`Delivery` per topic once its group settled everything before the marker.

    A read blocks up to ``block_ms``, so :meth:`poll` rounds its timeout up to that. :meth:`buffered` takes
    the entries of the last XREADGROUP. Iterate :meth:`messages` from one thread at a time; :meth:`close`
    may come from any thread.
    """

    def __init__(
        self,
        context: StreamsContext,
        topics: Sequence[str],
        group: str,
        consumer: str,
        start_id: str,
        private_group: bool,
        on_close: Callable[[RedisStreamsSubscriber], None],
    ) -> None:
        self._context = context
        self._topics = tuple(topics)
        self._group = group
        self._consumer = consumer
        self._streams = [context.stream(topic) for topic in topics]
        self._start_id = start_id
        self._private = private_group
        self._on_close = on_close
        self._wait_s = context.options.block_ms / 1000
        # Create the groups now, so entries published right after the subscriber was made are not missed.
        self._groups_ready = False
        context.run(self._ensure_groups)
        self._blocking = context.connect()
        self._closed = threading.Event()
        self._queue: deque[Delivery] = deque()
        self._ends: dict[str, _EndMark] = {}
        self._ended: set[str] = set()
        self._claim_at = 0.0
        self._last_claim = 0.0
        self._last_end_check = 0.0
        self._held = HeldEntries(context.commands, group, consumer, context.options.visibility_timeout_ms)
        self._trim = AckedTrim(context.commands, {context.stream(topic): context.eos_key(topic) for topic in topics}) if context.options.trim_acked else None
        self._acks = AckBatcher(context.commands, group, self._held, consumer, None if self._trim is None else self._trim.acked)

    @property
    def consumer(self) -> str:
        return self._consumer

    def _next(self, wait: float) -> Delivery | None:
        if not self._queue and wait > 0:
            self._fill()
        return self._queue.popleft() if self._queue else None

    def flush_acks(self, timeout: float = 5.0) -> bool:
        """Waits (up to ``timeout`` seconds) until Redis confirmed every ack made so far (they are sent from a
        thread of their own) and what waited on them ran. False when that took longer."""
        return self._acks.flush(timeout)

    def close(self) -> None:
        """Sends pending acks, then stops reading and hands this consumer's unacked entries to the group's other consumers at once. Idempotent."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._acks.stop()
        if self._trim is not None:
            self._trim.close()
        self._held.stop()
        commands, options = self._context.commands, self._context.options
        try:
            for stream in self._streams:
                if self._private:
                    commands.xgroup_destroy(stream, self._group)
                else:
                    hand_back(commands, stream, self._group, self._consumer, options.visibility_timeout_ms + 1)
        except redis.exceptions.RedisError:
            # Best effort: entries of a consumer that cannot hand back come back after the visibility timeout.
            pass
        self._blocking.close()
        self._on_close(self)

    def _fill(self) -> None:
        try:
            if not self._groups_ready:
                self._ensure_groups()
            now = time.monotonic()
            if now >= self._claim_at or now - self._last_claim >= max(50, self._context.options.visibility_timeout_ms / 4) / 1000:
                self._claim_at = math.inf
                self._last_claim = now
                self._claim()
                if self._queue:
                    return
            if self._ends_known() or now - self._last_end_check >= self._context.options.block_ms / 1000:
                self._check_ends()
                if self._queue:
                    return
            read = self._read()
            # After an empty full-length read, claim and check ends at once; while polling for the end
            # (short reads), the claim interval and the next fill's end check pace them instead.
            if read == 0 and not self._ends_known():
                self._claim_at = 0.0
                self._check_ends()
        except redis.exceptions.ResponseError as error:
            if not str(error).startswith("NOGROUP"):
                raise
            self._groups_ready = False
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as cause:
            if self._closed.is_set():
                return
            self._wait_for_server(cause)

    def _wait_for_server(self, cause: Exception) -> None:
        """After a dropped connection: waits (up to ``connect_timeout_ms``) for Redis, else raises ``ConnectionError``
        (at once, not retriable, when the server refused the credentials)."""
        error = connection_error(self._context.address, cause)
        if not error.retriable:
            raise error from cause
        deadline = time.monotonic() + self._context.options.connect_timeout_ms / 1000
        while time.monotonic() < deadline and not self._closed.is_set():
            try:
                self._context.commands.ping()
                self._blocking.ping()
                self._groups_ready = False
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                time.sleep(0.1)
        if not self._closed.is_set():
            raise error from cause

    def _ensure_groups(self) -> None:
        ensure_groups(self._context.commands, self._streams, self._group, self._start_id)
        self._groups_ready = True

    def _read(self) -> int:
        block_ms = self._context.options.block_ms
        # Once an end marker is seen, the end comes when the last entries before it are acked (by any
        # consumer of the group): poll for that every 25 ms instead of blocking for new entries.
        block = min(block_ms, _END_POLL_MS) if self._ends_known() else block_ms
        reply = self._blocking.xreadgroup(
            self._group, self._consumer, {stream: ">" for stream in self._streams}, count=self._context.options.batch_size, block=block
        )
        read: list[StreamEntry] = []
        rows: list[Any] = list(reply or [])
        for stream, raw in rows:
            read.extend(entries(stream.decode("utf-8") if isinstance(stream, bytes) else str(stream), raw))
        self._accept(read)
        return len(read)

    def _claim(self) -> None:
        options = self._context.options
        for stream in self._streams:
            self._accept(auto_claim(self._context.commands, stream, self._group, self._consumer, options.visibility_timeout_ms, options.batch_size))

    def _accept(self, read: list[StreamEntry]) -> None:
        """Queues deliveries; acks end markers (remembering them) and dead-letters entries past max_deliveries."""
        commands, options = self._context.commands, self._context.options
        for entry in read:
            topic = self._topics[self._streams.index(entry.stream)] if entry.stream in self._streams else entry.stream
            value = entry.fields.get("v", b"")
            raw_key = entry.fields.get("k")
            key = None if raw_key is None else raw_key.decode("utf-8")
            if entry.fields.get("e") == b"1":
                self._ends.setdefault(topic, _EndMark(entry.id, value, key or ""))
                commands.xack(entry.stream, self._group, entry.id)
                continue
            if entry.count > options.max_deliveries:
                self._dead_letter(topic, entry, value, key)
                continue
            self._queue.append(self._delivery(topic, entry, value, key))

    def _dead_letter(self, topic: str, entry: StreamEntry, value: bytes, key: str | None) -> None:
        """Writes the dead letter of an entry delivered more often than max_deliveries allows, and acks it, in one MULTI."""
        max_deliveries = self._context.options.max_deliveries
        failed = FailedMessage(topic=topic, position=entry.id, delivery_count=entry.count - 1, group=self._group, value=value, key=key)
        message = f"delivered {entry.count - 1} times without an ack (maxDeliveries {max_deliveries})"
        letter, letter_key = dead_letter_message(failed, errors.ErrorCodes.HANDLER, message)
        fields: dict[Any, Any] = {"v": letter}
        if letter_key is not None:
            fields["k"] = letter_key
        pipeline = self._context.commands.pipeline(transaction=True)
        pipeline.xadd(self._context.dead_letter(topic), fields)
        pipeline.xack(entry.stream, self._group, entry.id)
        pipeline.execute()

    def _delivery(self, topic: str, entry: StreamEntry, value: bytes, key: str | None) -> Delivery:
        context = self._context
        commands = context.commands
        self._held.hold(entry.stream, entry.id)

        def ack_later(then: Callable[[bool], None] | None) -> None:
            self._acks.ack(entry.stream, entry.id, then)

        def nack(requeue: bool, delay_ms: float) -> None:
            self._held.release(entry.stream, entry.id)
            if not requeue:
                context.run(lambda: commands.xack(entry.stream, self._group, entry.id))
                return
            idle = max(0, context.options.visibility_timeout_ms - math.ceil(delay_ms))
            context.run(lambda: commands.xclaim(entry.stream, self._group, self._consumer, 0, [entry.id], idle=idle, justid=True))
            self._claim_at = min(self._claim_at, time.monotonic() + delay_ms / 1000)

        delivery = Delivery(topic=topic, value=value, position=entry.id, delivery_count=entry.count, end_of_stream=False, key=key, _nack=nack, _ack_later=ack_later)
        if is_dead_letter(value):
            try:
                delivery.dead_letter = decode_dead_letter(value)
            except errors.MalformedEventError:
                pass  # tagged as a dead letter but not one: left unset, decode_dead_letter(value) says why
        return delivery

    def _ends_known(self) -> bool:
        return any(topic not in self._ended for topic in self._ends)

    def _check_ends(self) -> None:
        """Queues the end-of-stream delivery of each topic whose group has settled before its marker."""
        self._last_end_check = time.monotonic()
        self._acks.flush()
        commands = self._context.commands
        for topic, stream in zip(self._topics, self._streams):
            if topic in self._ended:
                continue
            mark = self._ends.get(topic)
            if mark is None:
                found: list[Any] = commands.hmget(self._context.eos_key(topic), "id", "v", "k")
                if found[0] is None:
                    continue
                mark = _EndMark(found[0].decode("latin-1"), found[1] or b"", (found[2] or b"").decode("utf-8"))
                self._ends[topic] = mark
            if not settled_before(commands, stream, self._group, mark.id):
                continue
            self._ended.add(topic)
            self._queue.append(
                Delivery(topic=topic, value=mark.value, position=mark.id, delivery_count=1, end_of_stream=True, key=mark.key or None)
            )
