"""One member of a Kafka consumer group, as ``kafka-subscriber.ts``."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, cast

from .. import errors
from ..wire import FailedMessage, dead_letter_message, decode_dead_letter, is_dead_letter
from .kafka_state import EOS_HEADER, PartitionState, committed_metadata, decode_commit_note, parse_offset_spec
from .base import SubscriberBase
from .types import Delivery, OutgoingMessage

if TYPE_CHECKING:
    from .kafka import KafkaContext, KafkaPublisher

_COMMIT_EVERY_S = 0.1
"""While messages are waiting in the buffer, settled offsets are committed at most this often (always when it runs dry)."""


@dataclass(frozen=True)
class _Fetched:
    state: PartitionState
    epoch: int
    offset: int
    value: bytes
    key: str | None
    count: int


class KafkaSubscriber(SubscriberBase):
    """A member of a consumer group on librdkafka: it reads on :meth:`messages`, commits the contiguous acked
    prefix of each partition with the TypeScript adapter's commit notes, delivers nacked messages again
    while it owns their partition, writes dead letters past ``max_deliveries``, and yields one
    end-of-stream :class:`Delivery` per topic once every partition's commit passed its end marker.

    After a rebalance every message of the old generation is void (its ack does nothing) and comes
    again from the committed offset to whichever member owns it. It joins the group on its first read;
    a read waits up to ``max_wait_time_ms``; :meth:`buffered` takes the records of the last fetch. Iterate
    :meth:`messages` from one thread at a time; ``ack``/``nack`` and :meth:`close` may come from any thread.
    Offsets settled while nobody iterates are committed by the next read or by :meth:`close`.
    """

    def __init__(
        self,
        context: KafkaContext,
        topics: Sequence[str],
        group: str,
        start: str | Mapping[str, object],
        private_group: bool,
        on_close: Callable[[KafkaSubscriber], None],
        dead_letters: Callable[[], KafkaPublisher],
    ) -> None:
        self._context = context
        self._kafka = context.kafka
        self._topics = tuple(topics)
        self._group = group
        self._wait_s = context.options.max_wait_time_ms / 1000
        self._start = start if isinstance(start, str) else "earliest"
        self._start_position: Mapping[str, object] = {} if isinstance(start, str) else start
        self._private = private_group
        self._on_close = on_close
        self._make_dead_letters = dead_letters
        self._dead_letters: KafkaPublisher | None = None
        self._closed = threading.Event()
        self._state_lock = threading.RLock()
        self._io_lock = threading.Lock()
        self._epoch = 0
        self._states: dict[tuple[str, int], PartitionState] = {}
        self._buffer: deque[_Fetched] = deque()
        self._retries: list[tuple[float, _Fetched]] = []
        self._ends: deque[Delivery] = deque()
        self._ended: set[str] = set()
        self._end_values: dict[str, bytes] = {}
        self._dirty = False
        self._last_commit = 0.0
        self._last_end_check = 0.0
        self._fatal: BaseException | None = None
        options = context.options
        context.ensure_topics(self._topics)
        self._consumer = context.make(
            self._kafka.Consumer,
            context.client_config(
                **{
                    "group.id": group,
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "auto.offset.reset": self._start,
                    "partition.assignment.strategy": "roundrobin",
                    "session.timeout.ms": options.session_timeout_ms,
                    "heartbeat.interval.ms": options.heartbeat_interval_ms,
                    "max.poll.interval.ms": max(options.max_poll_interval_ms, options.session_timeout_ms),
                    "fetch.wait.max.ms": options.max_wait_time_ms,
                }
            ),
        )
        self._consumer.subscribe(list(self._topics), on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost)

    def _next(self, wait: float) -> Delivery | None:
        delivery = self._take()
        if delivery is not None or wait <= 0:
            return delivery
        self._fill(wait)
        return self._take()

    def close(self) -> None:
        """Commits what is settled, leaves the group (unacked messages go to the next owner) and, for a private group, deletes it. Idempotent."""
        if self._closed.is_set():
            return
        self._closed.set()
        with self._io_lock:
            try:
                self._commit()
                self._consumer.close()
            except (self._kafka.KafkaException, RuntimeError):
                pass  # best effort: what is not committed comes again (at-least-once)
            with self._state_lock:
                self._void()
        if self._dead_letters is not None:
            self._dead_letters.close()
        if self._private:
            self._context.delete_group(self._group)
        self._on_close(self)

    # Reading

    def _take(self) -> Delivery | None:
        if self._fatal is not None:
            raise self._fatal
        while True:
            with self._state_lock:
                now = time.monotonic()
                due = next((i for i, (at, _) in enumerate(self._retries) if at <= now), None)
                fetched = self._retries.pop(due)[1] if due is not None else (self._buffer.popleft() if self._buffer else None)
                if fetched is None:
                    return self._ends.popleft() if self._ends else None
            delivery = self._deliver(fetched)
            if delivery is not None:
                if self._dirty and now - self._last_commit >= _COMMIT_EVERY_S:
                    with self._io_lock:
                        if not self._closed.is_set():
                            self._commit()
                return delivery

    def _fill(self, wait: float) -> None:
        """Commits, checks for ends when due, and reads one batch (waiting up to ``wait`` seconds)."""
        with self._io_lock:
            if self._closed.is_set():
                return
            try:
                self._commit()
                options = self._context.options
                if time.monotonic() - self._last_end_check >= options.end_of_stream_poll_ms / 1000:
                    self._check_ends()
                    if self._ends:
                        return
                with self._state_lock:
                    if self._retries:
                        wait = max(0.0, min(wait, min(at for at, _ in self._retries) - time.monotonic()))
                records = self._consumer.consume(num_messages=options.buffer_size, timeout=wait)
                self._accept(records)
                self._commit()
            except self._kafka.KafkaException as cause:
                if self._fatal is None and not self._closed.is_set():
                    self._fatal = self._context.connection_error(cause, f"kafka group {self._group}")

    def _accept(self, records: list[Any]) -> None:
        with self._state_lock:
            for record in records:
                error = record.error()
                if error is not None:
                    if error.code() == self._kafka.KafkaError.INCONSISTENT_GROUP_PROTOCOL:
                        self._fatal = errors.ConfigError(
                            f"kafka group {self._group} has members of another client (TypeScript members offer the assignor "
                            "RoundRobinAssigner, librdkafka roundrobin): Python and TypeScript members cannot share a group at the same time",
                            context={"group": self._group, "address": self._context.address},
                        )
                    elif error.fatal():
                        self._fatal = self._context.connection_error(self._kafka.KafkaException(error), f"kafka group {self._group}")
                    continue  # transient (broker restarting, partition end): librdkafka retries
                state = self._states.get((record.topic(), record.partition()))
                offset = record.offset()
                if state is None or not state.track(offset):
                    continue
                value = record.value() or b""
                raw_key = record.key()
                key = None if raw_key is None else raw_key.decode("utf-8", errors="replace")
                if any(name == EOS_HEADER and header == b"1" for name, header in record.headers() or []):
                    state.end_of_stream(offset)
                    self._end_values[state.topic] = value
                    self._last_end_check = 0.0
                    self._dirty = True
                else:
                    self._buffer.append(_Fetched(state, self._epoch, offset, value, key, state.next_count(offset)))

    def _deliver(self, fetched: _Fetched) -> Delivery | None:
        state, epoch, offset = fetched.state, fetched.epoch, fetched.offset
        if epoch != self._epoch:
            return None
        max_deliveries = self._context.options.max_deliveries
        if fetched.count > max_deliveries:
            self._dead_letter(fetched, max_deliveries)
            return None
        with self._state_lock:
            state.delivered(offset, fetched.count)
            self._dirty = True

        def ack() -> None:
            with self._state_lock:
                if epoch == self._epoch and state.settle(offset):
                    self._dirty = True

        def nack(requeue: bool, delay_ms: float) -> None:
            with self._state_lock:
                if epoch != self._epoch:
                    return
                if not requeue:
                    if state.settle(offset):
                        self._dirty = True
                    return
                self._retries.append((time.monotonic() + delay_ms / 1000, replace(fetched, count=fetched.count + 1)))

        delivery = Delivery(
            topic=state.topic,
            value=fetched.value,
            position=f"{state.partition}:{offset}",
            delivery_count=fetched.count,
            end_of_stream=False,
            key=fetched.key,
            _ack=ack,
            _nack=nack,
        )
        if is_dead_letter(fetched.value):
            try:
                delivery.dead_letter = decode_dead_letter(fetched.value)
            except errors.MalformedEventError:
                pass  # tagged as a dead letter but not one: left unset, decode_dead_letter(value) says why
        return delivery

    def _dead_letter(self, fetched: _Fetched, max_deliveries: int) -> None:
        """Writes the dead letter of a message delivered more often than max_deliveries allows, then settles it."""
        state = fetched.state
        failed = FailedMessage(
            topic=state.topic,
            position=f"{state.partition}:{fetched.offset}",
            delivery_count=fetched.count - 1,
            group=self._group,
            value=fetched.value,
            key=fetched.key,
        )
        message = f"delivered {fetched.count - 1} times without an ack (maxDeliveries {max_deliveries})"
        letter, letter_key = dead_letter_message(failed, errors.ErrorCodes.HANDLER, message)
        if self._dead_letters is None:
            self._dead_letters = self._make_dead_letters()
        try:
            self._dead_letters.publish(self._context.options.dead_letter_topic(state.topic), [OutgoingMessage(letter, letter_key)])
        except errors.ProxyStreamError:
            with self._state_lock:
                self._retries.insert(0, (0.0, fetched))  # not written: keep it open, let the reader see why
            raise
        with self._state_lock:
            if fetched.epoch == self._epoch and state.settle(fetched.offset):
                self._dirty = True

    # Group generations and commits (rebalance callbacks run inside consume(), under the I/O lock)

    def _void(self) -> None:
        self._epoch += 1
        self._states = {}
        self._buffer.clear()
        self._retries.clear()

    def _on_revoke(self, _consumer: Any, _partitions: list[Any]) -> None:
        try:
            self._commit()
        except self._kafka.KafkaException:
            pass  # the new owner reads from the last commit (at-least-once)
        with self._state_lock:
            self._void()

    def _on_lost(self, _consumer: Any, _partitions: list[Any]) -> None:
        with self._state_lock:
            self._void()

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        with self._state_lock:
            self._void()
        committed: list[Any] = []
        deadline = time.monotonic() + 60
        while partitions:
            try:
                committed = consumer.committed(partitions, timeout=self._context.timeout)
                break
            except self._kafka.KafkaException as cause:
                if time.monotonic() >= deadline or self._closed.is_set():
                    self._fatal = self._context.connection_error(cause, f"kafka group {self._group} join")
                    return
                time.sleep(0.3)
        edge = self._kafka.OFFSET_END if self._start == "latest" else self._kafka.OFFSET_BEGINNING
        states: dict[tuple[str, int], PartitionState] = {}
        fresh: dict[str, list[Any]] = {}
        for found in committed:
            offset = found.offset if found.offset >= 0 else -1
            states[(found.topic, found.partition)] = PartitionState(found.topic, found.partition, offset, committed_metadata(found))
            found.offset = offset if offset >= 0 else edge
            if offset < 0:
                fresh.setdefault(found.topic, []).append(found)
        for topic, unplaced in fresh.items():
            starts = self._start_offsets(consumer, topic, [found.partition for found in unplaced])
            for found in unplaced:
                start = starts.get(found.partition)
                if start is not None:
                    states[(topic, found.partition)].start_at(start)
                    found.offset = start
        with self._state_lock:
            self._states = states
            self._dirty = True
        consumer.assign(committed)

    def _start_offsets(self, consumer: Any, topic: str, partitions: list[int]) -> dict[int, int]:
        """Offsets of an ``{'offset': spec}`` or ``{'timestamp': ms}`` start for partitions without a commit; {} for earliest/latest."""
        start = self._start_position
        if "offset" in start:
            return parse_offset_spec(str(start["offset"]), partitions)
        if "timestamp" not in start:
            return {}
        kafka, timeout = self._kafka, self._context.timeout
        found = consumer.offsets_for_times([kafka.TopicPartition(topic, p, cast(int, start["timestamp"])) for p in partitions], timeout=timeout)
        # No record at or after the time: the end of the partition.
        return {f.partition: f.offset if f.offset >= 0 else consumer.get_watermark_offsets(f, timeout=timeout)[1] for f in found}

    def _commit(self) -> None:
        """Commits the settled prefix of every partition that moved (with its note); a failed commit is tried again on the next read."""
        with self._state_lock:
            if not self._dirty:
                return
            self._dirty = False
            batch = [(state, commit) for state in self._states.values() if (commit := state.pending_commit()) is not None]
            epoch = self._epoch
        self._last_commit = time.monotonic()
        if not batch:
            return
        offsets = [self._kafka.TopicPartition(state.topic, state.partition, offset, metadata) for state, (offset, metadata) in batch]
        try:
            results = self._consumer.commit(offsets=offsets, asynchronous=False)
        except self._kafka.KafkaException:
            results = None
        # A partition whose commit failed (the whole call, or its own error in the result) is tried again.
        failed = {(r.topic, r.partition) for r in results if r.error is not None} if results is not None else None
        with self._state_lock:
            for state, commit in batch:
                if failed is not None and (state.topic, state.partition) not in failed:
                    state.committed(commit)
                elif epoch == self._epoch:
                    self._dirty = True

    def _check_ends(self) -> None:
        """Queues an end-of-stream delivery for each topic whose every partition's commit passed its end marker."""
        self._last_end_check = time.monotonic()
        kafka = self._kafka
        for topic in self._topics:
            if topic in self._ended:
                continue
            try:
                metadata = self._consumer.list_topics(topic=topic, timeout=self._context.timeout).topics.get(topic)
                partitions = sorted(metadata.partitions) if metadata is not None and metadata.error is None else []
                if not partitions:
                    continue
                found = self._consumer.committed([kafka.TopicPartition(topic, p) for p in partitions], timeout=self._context.timeout)
            except kafka.KafkaException:
                continue  # transient (coordinator moving, broker restarting): the next poll asks again
            ended = all((eos := decode_commit_note(committed_metadata(entry)).eos) is not None and entry.offset > eos for entry in found)
            if not ended:
                continue
            with self._state_lock:
                self._ended.add(topic)
                self._ends.append(
                    Delivery(topic=topic, value=self._end_values.get(topic, b""), position="end", delivery_count=1, end_of_stream=True)
                )
