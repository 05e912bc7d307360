"""StreamProducer: values to topics, small ones inside the event, large ones by ref (as ``src/producer/stream-producer.ts``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence, cast

from . import errors
from .broker.types import OutgoingMessage, Publisher
from .store.lifetime import Readers
from .store.policy import StorePolicy
from .store.types import Store
from .wire import (
    DEFAULT_WIRE_LIMITS,
    CodecName,
    EventFields,
    InlinePayload,
    Metadata,
    RefPayload,
    WireLimits,
    assert_metadata,
    checksum,
    encode_event,
    encode_payload,
    id_to_string,
    join_parts,
    new_id_bytes,
)
from .wire.codecs import Buffer

DEFAULT_INLINE_THRESHOLD = 256 * 1024
"""Payloads smaller than this travel inside the event (TypeScript's ``DEFAULT_INLINE_THRESHOLD``)."""
DEFAULT_TTL_MS = 24 * 3_600_000
DEFAULT_PROVISIONAL_LEASE_MS = 60_000
DEFAULT_LINGER_MS = 5
_COMMIT_ATTEMPTS = 3


@dataclass(frozen=True)
class PayloadLifetime:
    """How long a stored payload lives once its event was accepted: until ``readers`` (group names, or how many
    distinct groups) released it, or ``ttl_ms`` ran out, whichever comes first. Default: 24 h, no readers."""

    readers: Readers | None = None
    ttl_ms: float | None = DEFAULT_TTL_MS


@dataclass(frozen=True)
class SendResult:
    """What happened to one sent value."""

    id: str
    """Event id (also the store key of a stored payload); empty when filtered."""
    topic: str
    filtered: bool
    """True when the producer's filter dropped it: nothing was stored or published."""
    inline: bool
    """True when the payload travels inside the event."""
    size: int
    """Encoded payload bytes."""
    store_id: str | None = None
    """Store that holds the payload (None when inline or filtered)."""


@dataclass
class ProducerStats:
    """Counters since the producer was made."""

    sent: int = 0
    filtered: int = 0
    inline: int = 0
    stored: int = 0
    payload_bytes_stored: int = 0
    payload_bytes_inline: int = 0
    event_bytes: int = 0
    rewritten: int = 0
    """Payloads written again because their publish outlasted the provisional lease."""


@dataclass
class _Stored:
    store: Store
    key: str
    parts: list[Buffer]
    lease_over_at: float


@dataclass
class _Pending:
    messages: list[OutgoingMessage] = field(default_factory=list)
    stored: list[_Stored] = field(default_factory=list)
    results: list[SendResult] = field(default_factory=list)
    bytes: int = 0
    since: float = field(default_factory=time.monotonic)


class StreamProducer:
    """Sends values to topics through a publisher; a payload of ``inline_threshold`` bytes or more goes into
    ``store`` with only a ref in the event.

    :meth:`send` queues the event of a value (after writing its payload to the store with a short
    provisional lease, ``provisional_lease_ms``); a topic's queued events are published in call order when
    ``max_batch`` events or ``max_batch_bytes`` bytes are queued, when a send finds the oldest of them
    queued ``linger_ms`` or longer, or on :meth:`flush`, :meth:`end` or :meth:`close`. Only once the broker accepted an event does its payload get its full ``lifetime``, so a
    producer that dies leaves no orphan for long. A publish that fails raises :class:`PublishError` and
    leaves its stored payloads to the lease (the broker may have written the event before the failure
    reached us). A publish that outlasted the lease writes its payloads again (``stats.rewritten``).

    Use it as a context manager: leaving the block flushes and closes the publisher.

    Args:
        publisher: Where events go (``RedisStreamsBroker(...).publisher()``); closed with the producer unless ``close_publisher=False``.
        store: Where large payloads go: one store, or a :data:`StorePolicy` ``policy(topic, size) -> Store``
            (:func:`store_by_size`, :func:`store_by_topic`) asked for each payload at or above the threshold;
            None sends every payload inline.
        inline_threshold: Payloads smaller than this travel inside the event. Default 256 KiB.
        lifetime: Readers and TTL of stored payloads after the commit. Default: TTL 24 h.
        provisional_lease_ms: How long a stored payload lives before its event is accepted. Default 60 s.
        filter: ``filter(metadata, topic)``; a value it returns False for is neither stored nor sent.
        max_batch: Queued events of a topic that trigger a publish. Default 512.
        max_batch_bytes: Queued event bytes of a topic that trigger a publish. Default 1 MiB.
        linger_ms: A send publishes its topic's queue once the oldest queued event has waited this long, so
            a steady sender's events (and large payloads, which take long to store) reach consumers while
            it keeps sending. 0 publishes on every send. Default 5 ms. The client has no timer thread: the
            last events of a burst wait for the next send, :meth:`flush`, :meth:`end` or :meth:`close`.
        limits: Wire limits (event size, metadata depth).
    """

    def __init__(
        self,
        publisher: Publisher,
        store: Store | StorePolicy | None = None,
        *,
        inline_threshold: int = DEFAULT_INLINE_THRESHOLD,
        lifetime: PayloadLifetime = PayloadLifetime(),
        provisional_lease_ms: float = DEFAULT_PROVISIONAL_LEASE_MS,
        filter: Callable[[Metadata, str], bool] | None = None,
        max_batch: int = 512,
        max_batch_bytes: int = 1024 * 1024,
        linger_ms: float = DEFAULT_LINGER_MS,
        limits: WireLimits = DEFAULT_WIRE_LIMITS,
        close_publisher: bool = True,
    ) -> None:
        if not callable(getattr(publisher, "publish", None)):
            raise errors.ConfigError("StreamProducer publisher must have a publish method")
        for name, value in (("inline_threshold", inline_threshold), ("max_batch", max_batch), ("max_batch_bytes", max_batch_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "inline_threshold" else 1):
                raise errors.ConfigError(f"StreamProducer {name} must be a {'non-negative' if name == 'inline_threshold' else 'positive'} integer")
        if isinstance(provisional_lease_ms, bool) or not isinstance(provisional_lease_ms, (int, float)) or provisional_lease_ms <= 0:
            raise errors.ConfigError("StreamProducer provisional_lease_ms must be a positive number")
        if isinstance(linger_ms, bool) or not isinstance(linger_ms, (int, float)) or not 0 <= linger_ms < float("inf"):
            raise errors.ConfigError("StreamProducer linger_ms must be a non-negative number")
        self._publisher = publisher
        self._policy = _as_policy(store)
        self._inline_threshold = inline_threshold
        self._lifetime = lifetime
        self._lease_ms = provisional_lease_ms
        self._filter = filter
        self._max_batch = max_batch
        self._max_batch_bytes = max_batch_bytes
        self._linger_s = linger_ms / 1000
        self._limits = limits
        self._close_publisher = close_publisher
        self._pending: dict[str, _Pending] = {}
        self._closed = False
        self.stats = ProducerStats()

    def send(self, topic: str, value: object, *, metadata: Metadata | None = None, key: str | None = None, codec: CodecName | None = None) -> SendResult:
        """Queues one value for ``topic`` (its payload stored now when it is large); see the class docstring for when it goes out.

        ``metadata`` is plain data consumers filter on, ``key`` the partition/ordering key, ``codec`` forces
        a codec instead of the one picked from the value's type. Raises :class:`ClosedError`,
        :class:`LimitExceededError`, :class:`CodecError`, or :class:`PublishError` when the publish it triggered failed.
        """
        if self._closed:
            raise errors.ClosedError("producer is closed", context={"topic": topic})
        _check_topic(topic)
        metadata = {} if metadata is None else metadata
        assert_metadata(metadata, self._limits)
        if self._filter is not None and not self._filter(metadata, topic):
            self.stats.filtered += 1
            return SendResult(id="", topic=topic, filtered=True, inline=False, size=0)
        encoded = encode_payload(value, codec)
        id_bytes = new_id_bytes()
        event_id = id_to_string(id_bytes)
        fields = EventFields(kind="data", id_bytes=id_bytes, topic=topic, timestamp=int(time.time() * 1000), metadata=metadata, key=key)
        pending = self._pending.setdefault(topic, _Pending())
        store = self._store_for(topic, encoded.size)
        if store is None:
            event = encode_event(_with_payload(fields, InlinePayload(encoded.codec, join_parts(encoded.parts))), self._limits)
        else:
            payload = RefPayload(store.id, event_id, encoded.size, checksum(encoded.parts), encoded.codec)
            event = encode_event(_with_payload(fields, payload), self._limits)
            store.put(event_id, encoded.parts, readers=self._lifetime.readers, ttl_ms=self._lifetime.ttl_ms, lease_ms=self._lease_ms)
            pending.stored.append(_Stored(store, event_id, encoded.parts, time.monotonic() + self._lease_ms / 1000))
        result = SendResult(id=event_id, topic=topic, filtered=False, inline=store is None, size=encoded.size, store_id=None if store is None else store.id)
        pending.messages.append(OutgoingMessage(event, key))
        pending.results.append(result)
        pending.bytes += len(event)
        if len(pending.messages) >= self._max_batch or pending.bytes >= self._max_batch_bytes or time.monotonic() - pending.since >= self._linger_s:
            self._publish(topic)
        return result

    def _store_for(self, topic: str, size: int) -> Store | None:
        """The store of a payload of ``size`` encoded bytes, or None to send it inline."""
        return None if self._policy is None or size < self._inline_threshold else self._policy(topic, size)

    def flush(self, topic: str | None = None) -> None:
        """Publishes everything queued (for one topic, or all) and gives stored payloads their full lifetime."""
        for name in [topic] if topic is not None else list(self._pending):
            self._publish(name)

    def end(self, topics: str | Iterable[str]) -> None:
        """Flushes, then publishes the end-of-stream marker of each topic; every consumer of every group sees it."""
        if self._closed:
            raise errors.ClosedError("producer is closed")
        self._end([topics] if isinstance(topics, str) else list(topics))

    def close(self, *, end: Sequence[str] = ()) -> None:
        """Stops accepting sends, flushes everything queued, ends ``end`` topics, and closes the publisher
        (unless ``close_publisher=False``). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.flush()
        self._end(list(end))
        if self._close_publisher:
            self._publisher.close()

    def __enter__(self) -> StreamProducer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _end(self, topics: list[str]) -> None:
        for topic in topics:
            _check_topic(topic)
            self._publish(topic)
            value = encode_event(EventFields(kind="end", id_bytes=new_id_bytes(), topic=topic, timestamp=int(time.time() * 1000)), self._limits)
            self._publisher.publish(topic, [OutgoingMessage(value, end_of_stream=True)])

    def _publish(self, topic: str) -> None:
        pending = self._pending.pop(topic, None)
        if pending is None or not pending.messages:
            return
        try:
            self._publisher.publish(topic, pending.messages)
        except errors.ProxyStreamError:
            raise
        except Exception as cause:
            raise errors.PublishError(f"publishing to {topic} failed", context={"topic": topic}) from cause
        self._commit(pending.stored)
        for result, message in zip(pending.results, pending.messages):
            self.stats.sent += 1
            self.stats.event_bytes += len(message.value)
            if result.inline:
                self.stats.inline += 1
                self.stats.payload_bytes_inline += result.size
            else:
                self.stats.stored += 1
                self.stats.payload_bytes_stored += result.size

    def _commit(self, stored: list[_Stored]) -> None:
        """Gives every stored payload of an accepted batch its full lifetime.

        A payload the commit does not find was consumed and released already (its readers were quick), or
        lost to its lease because the publish outlasted it; only the second is written again, with its full lifetime.
        """
        by_store: dict[int, tuple[Store, dict[str, _Stored]]] = {}
        for item in stored:
            by_store.setdefault(id(item.store), (item.store, {}))[1][item.key] = item
        for store, keys in by_store.values():
            missing = _commit_with_retry(store, list(keys))
            now = time.monotonic()
            for key in missing:
                item = keys[key]
                if now >= item.lease_over_at:
                    self.stats.rewritten += 1
                    store.put(key, item.parts, readers=self._lifetime.readers, ttl_ms=self._lifetime.ttl_ms)


def _with_payload(fields: EventFields, payload: InlinePayload | RefPayload) -> EventFields:
    return EventFields(fields.kind, fields.id_bytes, fields.topic, fields.timestamp, fields.metadata, fields.key, payload)


def _commit_with_retry(store: Store, keys: list[str]) -> list[str]:
    attempt = 1
    while True:
        try:
            return store.commit(keys)
        except errors.ConnectionError:
            if attempt >= _COMMIT_ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)
            attempt += 1


def _check_topic(topic: object) -> None:
    if not isinstance(topic, str) or not 0 < len(topic) <= 256:
        raise errors.ConfigError("topic must be a string of 1 to 256 characters")


def _is_store(value: object) -> bool:
    return isinstance(getattr(value, "id", None), str) and callable(getattr(value, "put", None))


def _as_policy(store: Store | StorePolicy | None) -> StorePolicy | None:
    """The producer's ``store`` argument as a policy (a store is a policy that always picks it); a policy's
    pick that is no store raises ``ConfigError`` from the send."""
    if store is None:
        return None
    if _is_store(store):
        fixed = cast(Store, store)
        return lambda _topic, _size: fixed
    if not callable(store):
        raise errors.ConfigError("StreamProducer store must be a store (with id and put), a policy(topic, size) -> store, or None")
    policy = store

    def checked(topic: str, size: int) -> Store:
        chosen = policy(topic, size)
        if not _is_store(chosen):
            raise errors.ConfigError(f"the store policy returned {chosen!r} for topic {topic!r}, not a store", context={"topic": topic})
        return chosen

    return checked
