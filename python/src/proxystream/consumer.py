"""StreamConsumer: events as an iterable of items whose payloads resolve lazily (as ``src/consumer/stream-consumer.ts``)."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

from . import errors
from .broker.types import Delivery, OutgoingMessage, Publisher, Subscriber
from .proxy import Ref, StoreRegistry
from .store.types import Store
from .wire import DEFAULT_WIRE_LIMITS, FailedMessage, Metadata, RefPayload, StreamEvent, WireLimits, dead_letter_message, decode_event


@dataclass
class ConsumerStats:
    """Counters since the consumer was made."""

    received: int = 0
    filtered: int = 0
    malformed: int = 0
    yielded: int = 0
    duplicates: int = 0
    """Deliveries of an event whose payload this consumer had already released after acking it: acked and skipped."""


RELEASED_IDS_REMEMBERED = 10_000
"""How many of its latest released payloads a consumer remembers by event id, to know a later delivery of
the same event (a broker that wrote a retried batch twice) for a duplicate, not a missing payload."""


class StreamItem:
    """One received item: its event's metadata and a lazy :class:`Ref` to its payload.

    Nothing is read from the store until :meth:`resolve`. Call :meth:`ack` when done (it also releases
    this group's hold on the payload) or :meth:`nack` to have it delivered again.
    """

    def __init__(
        self,
        event: StreamEvent,
        delivery: Delivery,
        ref: Ref,
        ack_and_release: Callable[[Sequence[str]], None],
        on_resolve: Callable[[], None] | None = None,
    ) -> None:
        self.event = event
        """The decoded event."""
        self.delivery = delivery
        """The raw broker delivery."""
        self.ref = ref
        self.id = event.id
        self.topic = delivery.topic
        """The topic the item arrived on."""
        self.key = event.key
        self.metadata: Metadata = event.metadata
        self.timestamp = event.timestamp
        """Producer clock, ms since the epoch."""
        self.position = delivery.position
        """Broker position (a stream entry id)."""
        self.delivery_count = delivery.delivery_count
        """1 on first delivery."""
        self._ack_and_release = ack_and_release
        self._on_resolve = on_resolve
        self._settled = False

    def resolve(self) -> object:
        """The verified, decoded payload; raises :class:`MissingPayloadError`, :class:`CorruptPayloadError` or :class:`UnknownStoreError`."""
        if self._on_resolve is not None and not self.ref.inline:
            self._on_resolve()
        return self.ref.resolve()

    def ack(self, *, release_for: Sequence[str] = ()) -> None:
        """Acks upstream, then releases the payload for this consumer's group and for ``release_for``
        (groups downstream that will never read this item): at once, or on Redis Streams from the thread
        that sends acks, once the broker confirmed the ack. Idempotent."""
        if self._settled:
            return
        self._settled = True
        self.ref.forget()
        self._ack_and_release(release_for)

    def nack(self, *, requeue: bool = True, delay_ms: float = 0) -> None:
        """Hands the item back for redelivery after ``delay_ms`` (or drops it with ``requeue=False``). Idempotent."""
        if self._settled:
            return
        self._settled = True
        self.ref.forget()
        self.delivery.nack(requeue=requeue, delay_ms=delay_ms)

    def __repr__(self) -> str:
        return f"StreamItem(id={self.id!r}, topic={self.topic!r}, position={self.position!r}, metadata={self.metadata!r})"


class StreamConsumer:
    """Reads a subscriber's events as an iterable of :class:`StreamItem`.

    It decodes and filters on metadata without touching the store (it acks and releases what the filter
    drops), and stops when every subscribed topic has reached end of stream (then :attr:`ended` is True).
    Items not acked are redelivered per the broker's guarantee. A malformed event is reported to
    ``on_error`` and acked. Use it as a context manager: leaving the block closes the subscriber.

    Args:
        subscriber: Where events come from (``RedisStreamsBroker(...).subscriber(topic, group)``); its
            group is the reader that releases payloads. Closed with the consumer unless ``close_subscriber=False``.
        stores: The stores refs may name, by id; any other id is :class:`UnknownStoreError` on resolve.
        filter: ``filter(metadata)``; an item it returns False for is acked and released unread.
        release_on_ack: Release this group's hold on a payload when its item is acked. Default True.
        release_dropped_for: Further groups released when the filter drops an event.
        dead_letter: ``(publisher, topic)``: where malformed events go as dead-letter records (``ps-dead-letter/2``,
            code ``PS_MALFORMED_EVENT``, the same record the TypeScript consumer writes) before they are acked;
            ``topic`` is a name or a function of the source topic (``lambda t: f"{t}.dlq"``). A publish that fails
            is reported and the event nacked, to come again. Absent: malformed events are reported and acked.
        on_error: Hears about malformed events and failed releases (a :class:`ProxyStreamError`).
        limits: Wire limits for decoding.
        prefetch: While iterating, how many kept items behind the one yielded have their payloads fetched and
            verified on a thread of the consumer's own, from the entries the subscriber already read (a Redis
            Streams subscriber's last XREADGROUP, a Kafka subscriber's last fetch, the messages a ZeroMQ socket
            queued; never waiting for more), so the next payload crosses the
            network while the caller works on this one. It starts once the caller resolved a stored payload,
            so a consumer that hands refs on unresolved (a dispatcher) reads no payload. Errors still come from
            ``resolve()``. 0 fetches only in ``resolve()``. Default 1, as in TypeScript.
    """

    def __init__(
        self,
        subscriber: Subscriber,
        stores: StoreRegistry | Iterable[Store] = (),
        *,
        filter: Callable[[Metadata], bool] | None = None,
        release_on_ack: bool = True,
        release_dropped_for: Sequence[str] = (),
        dead_letter: tuple[Publisher, str | Callable[[str], str]] | None = None,
        on_error: Callable[[errors.ProxyStreamError], None] | None = None,
        limits: WireLimits = DEFAULT_WIRE_LIMITS,
        close_subscriber: bool = True,
        prefetch: int = 1,
    ) -> None:
        if not callable(getattr(subscriber, "messages", None)):
            raise errors.ConfigError("StreamConsumer subscriber must have a messages method")
        if dead_letter is not None and (not callable(getattr(dead_letter[0], "publish", None)) or not (callable(dead_letter[1]) or (isinstance(dead_letter[1], str) and dead_letter[1]))):
            raise errors.ConfigError("StreamConsumer dead_letter must be (publisher, topic name or function of the source topic)")
        if isinstance(prefetch, bool) or not isinstance(prefetch, int) or not 0 <= prefetch <= 64:
            raise errors.ConfigError("StreamConsumer prefetch must be an integer from 0 to 64")
        self._prefetch = prefetch
        self._prefetcher: ThreadPoolExecutor | None = None
        self._caller_resolves = False
        self._ahead: deque[StreamItem] = deque()
        self._dead_letter = dead_letter
        self._subscriber = subscriber
        self._stores = stores if isinstance(stores, StoreRegistry) else StoreRegistry(stores)
        self._filter = filter
        self._release_on_ack = release_on_ack
        self._release_dropped_for = tuple(release_dropped_for)
        self._on_error = on_error
        self._limits = limits
        self._close_subscriber = close_subscriber
        self._ended: set[str] = set()
        self._closed = False
        self.stats = ConsumerStats()
        self._released: OrderedDict[str, None] = OrderedDict()

    def released_before(self, event_id: str) -> bool:
        """True when this consumer acked an event with this id and released its payload (one of its last
        10,000 releases): another delivery of it is a duplicate of work done, and is skipped as it arrives."""
        return event_id in self._released

    def handled_before(self, item: StreamItem) -> bool:
        """True when this consumer's group is done with the item's event already: this consumer released its
        payload (:meth:`released_before`), or the store remembers that a release by (or on behalf of) this group
        deleted it (another member of the group, or an earlier run of this one). Ask on ``PS_MISSING_PAYLOAD``:
        True means a second delivery of work done, to ack and skip, not a lost payload. The store is asked only
        when the payload's key is the event's id, as producers write it. False when the store cannot say."""
        if item.event.id in self._released:
            return True
        payload = item.event.payload
        if not isinstance(payload, RefPayload) or payload.key != item.event.id or payload.store_id not in self._stores:
            return False
        released_by = getattr(self._stores.get(payload.store_id), "released_by", None)
        if released_by is None:
            return False
        try:
            return self.group in released_by(payload.key)
        except errors.ProxyStreamError as error:
            self._report(error)
            return False
        except Exception as cause:
            failure = errors.ConnectionError(f"asking the store who released a payload failed: {cause}", context={"key": payload.key})
            failure.__cause__ = cause
            self._report(failure)
            return False

    @property
    def group(self) -> str:
        """The consumer group whose hold on payloads this consumer releases."""
        return self._subscriber.group

    @property
    def ended(self) -> bool:
        """True once every subscribed topic has reached end of stream."""
        return all(topic in self._ended for topic in self._subscriber.topics)

    def __iter__(self) -> Iterator[StreamItem]:
        """Items until end of stream or :meth:`close`, with ``prefetch`` payloads read ahead. Items read ahead but
        not yielded when an iteration stops early stay with the consumer: the next iteration or :meth:`poll`
        yields them first, and :meth:`close` hands them back to the broker."""
        buffered: Callable[[], Delivery | None] | None = getattr(self._subscriber, "buffered", None) if self._prefetch > 0 else None
        ahead = self._ahead
        messages: Iterator[Delivery] | None = None
        while not self._closed and (ahead or not self.ended):
            if not ahead:
                if messages is None:
                    messages = self._subscriber.messages()
                delivery = next(messages, None)
                if delivery is None:
                    return
                item = self._accept(delivery)
                if item is None:
                    continue
                ahead.append(item)
            if buffered is not None:
                self._read_ahead(buffered)
            try:
                item = ahead.popleft()
            except IndexError:
                return  # close() from another thread handed the read-ahead back
            self.stats.yielded += 1
            yield item

    def _read_ahead(self, buffered: Callable[[], Delivery | None]) -> None:
        """Tops the read-ahead up from what the subscriber already read, and, once the caller has resolved a
        stored payload, starts fetching those of all but its first item (the one about to be yielded)."""
        ahead = self._ahead
        while len(ahead) <= self._prefetch:
            delivery = buffered()
            if delivery is None:
                break
            item = self._accept(delivery)
            if item is not None:
                ahead.append(item)
        if len(ahead) < 2 or not self._caller_resolves or self._closed:
            return
        if self._prefetcher is None:
            self._prefetcher = ThreadPoolExecutor(max_workers=self._prefetch, thread_name_prefix="proxystream-prefetch")
        try:
            for item in itertools.islice(ahead, 1, None):
                item.ref.prefetch(self._prefetcher)
        except RuntimeError:
            return  # closed from another thread meanwhile: resolve() fetches instead

    def poll(self, timeout: float) -> StreamItem | None:
        """The next item, or None when none came within about ``timeout`` seconds (the subscriber rounds
        up to its own wait, such as ``block_ms``), at end of stream, or after :meth:`close`."""
        if self._ahead and not self._closed:
            self.stats.yielded += 1
            return self._ahead.popleft()
        deadline = time.monotonic() + timeout
        while not (self.ended or self._closed):
            delivery = self._subscriber.poll(max(0.0, deadline - time.monotonic()))
            if delivery is None:
                return None
            item = self._accept(delivery)
            if item is not None:
                self.stats.yielded += 1
                return item
        return None

    def flush(self, timeout: float = 5.0) -> bool:
        """Waits (up to ``timeout`` seconds) until the broker confirmed every ack made so far and their payloads
        were released: a Redis Streams subscriber sends acks from a thread of its own, so ``ack()`` returns
        before that. Returns at once on the other brokers. False when it took longer."""
        flush_acks = getattr(self._subscriber, "flush_acks", None)
        return True if flush_acks is None else bool(flush_acks(timeout))

    def close(self) -> None:
        """Stops iteration and closes the subscriber (unless ``close_subscriber=False``), which sends pending acks
        and releases first, and hands unacked entries back. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._prefetcher is not None:
            self._prefetcher.shutdown(wait=False, cancel_futures=True)
        while True:
            try:
                item = self._ahead.popleft()
            except IndexError:
                break
            item.nack(requeue=True)
        if self._close_subscriber:
            self._subscriber.close()

    def __enter__(self) -> StreamConsumer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _accept(self, delivery: Delivery) -> StreamItem | None:
        self.stats.received += 1
        if delivery.end_of_stream:
            self._ended.add(delivery.topic)
            delivery.ack()
            return None
        try:
            event = decode_event(delivery.value, self._limits)
            if event.kind == "end":
                raise errors.MalformedEventError("end-of-stream event arrived without the broker marking it", context={"topic": delivery.topic})
        except errors.ProxyStreamError as error:
            self._malformed(delivery, error)
            return None
        if isinstance(event.payload, RefPayload) and event.id in self._released:
            self.stats.duplicates += 1
            # Released again: the producer may have written the payload anew (a publish that outlasted its lease).
            self._ack_and_release(delivery, event, (self.group,))
            return None
        if self._filter is not None and not self._passes(event):
            self.stats.filtered += 1
            self._ack_and_release(delivery, event, (self.group, *self._release_dropped_for))
            return None
        assert event.payload is not None
        ref = Ref(event.payload, self._stores)
        return StreamItem(event, delivery, ref, lambda release_for: self._ack_and_release(delivery, event, (self.group, *release_for)), self._noted_resolve)

    def _noted_resolve(self) -> None:
        self._caller_resolves = True

    def _malformed(self, delivery: Delivery, error: errors.ProxyStreamError) -> None:
        self.stats.malformed += 1
        self._report(error)
        if self._dead_letter is not None:
            publisher, target = self._dead_letter
            topic = target if isinstance(target, str) else target(delivery.topic)
            failed = FailedMessage(delivery.topic, delivery.position, delivery.delivery_count, self.group, delivery.value, delivery.key)
            value, key = dead_letter_message(failed, error.code, error.message)
            try:
                publisher.publish(topic, [OutgoingMessage(value, key)])
            except errors.ProxyStreamError as cause:
                failure = errors.PublishError("dead-lettering a malformed event failed; it will be redelivered", context={"topic": topic})
                failure.__cause__ = cause
                self._report(failure)
                delivery.nack(requeue=True, delay_ms=1000)
                return
        delivery.ack()

    def _passes(self, event: StreamEvent) -> bool:
        assert self._filter is not None
        try:
            return bool(self._filter(event.metadata))
        except Exception as cause:
            error = errors.MalformedEventError("filter raised; the item is kept", context={"topic": event.topic})
            error.__cause__ = cause
            self._report(error)
            return True

    def _ack_and_release(self, delivery: Delivery, event: StreamEvent, groups: Sequence[str]) -> None:
        """Acks ``delivery``, then releases ``event``'s payload for ``groups`` once the broker confirmed the ack
        (so a crash never leaves an event to come again whose payload is gone)."""
        payload = event.payload
        if not self._release_on_ack or not isinstance(payload, RefPayload) or payload.store_id not in self._stores:
            delivery.ack()
            return
        if self.group in groups:
            # Remembered before the store forgets it: a duplicate resolved meanwhile fails as missing.
            self._released[event.id] = None
            self._released.move_to_end(event.id)
            if len(self._released) > RELEASED_IDS_REMEMBERED:
                self._released.popitem(last=False)

        def released(confirmed: bool) -> None:
            if confirmed:
                self._release(payload, groups)
            else:
                self._report(errors.ConnectionError("the broker did not confirm an ack; the event will be delivered again", context={"topic": delivery.topic, "position": delivery.position}))

        delivery.ack(then=released)

    def _release(self, payload: RefPayload, groups: Sequence[str]) -> None:
        store = self._stores.get(payload.store_id)
        for group in groups:
            try:
                store.release(payload.key, group)
            except errors.ProxyStreamError as error:
                self._report(error)

    def _report(self, error: errors.ProxyStreamError) -> None:
        if self._on_error is None:
            return
        try:
            self._on_error(error)
        except Exception:
            return
