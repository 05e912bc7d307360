"""asyncio variants of :class:`StreamProducer` and :class:`StreamConsumer`, for every broker and store.

The clients underneath (redis-py with hiredis, confluent-kafka, pyzmq) are blocking, and neither
confluent-kafka nor a ZeroMQ socket may be used from two threads at once. So each async producer or
consumer owns one thread and runs every broker call of its wrapped client there, one at a time and in
call order: the event loop never blocks, and the guarantees are exactly those of the blocking classes.
Payload reads (:meth:`AsyncStreamItem.resolve`) go to the store on a second thread pool, so a slow
object does not hold up acks and reads.

A cancelled ``await`` does not stop the call already running on the thread: a ``send`` still completes
(and flush/close still publish it), and an event read for a cancelled ``__anext__`` stays unacked and is
delivered again per the broker's guarantee.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import AsyncIterator, Callable, Iterable, Sequence, TypeVar

from . import errors
from .broker.types import Publisher, Subscriber
from .consumer import ConsumerStats, StreamConsumer, StreamItem
from .producer import DEFAULT_INLINE_THRESHOLD, DEFAULT_LINGER_MS, DEFAULT_PROVISIONAL_LEASE_MS, PayloadLifetime, ProducerStats, SendResult, StreamProducer
from .proxy import StoreRegistry
from .store.policy import StorePolicy
from .store.types import Store
from .wire import DEFAULT_WIRE_LIMITS, CodecName, Metadata, WireLimits

T = TypeVar("T")

#: How long one read on a consumer's thread waits for an event before the iterator looks for a close.
POLL_SECONDS = 0.2

#: Threads per consumer that read payloads from the store for :meth:`AsyncStreamItem.resolve`.
RESOLVE_THREADS = 4


class _Thread:
    """One worker thread that runs calls in the order they were submitted."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, call: Callable[..., T], *args: object, **kwargs: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, partial(call, *args, **kwargs))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False)


class AsyncStreamProducer:
    """:class:`StreamProducer` for asyncio: the same arguments, and ``await`` on every call.

    ``send`` returns once its payload is stored and its event queued (published per ``max_batch``,
    ``max_batch_bytes`` and ``linger_ms``, as for the blocking producer). Use ``async with``: leaving the
    block flushes and closes the publisher.
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
        self._producer = StreamProducer(
            publisher,
            store,
            inline_threshold=inline_threshold,
            lifetime=lifetime,
            provisional_lease_ms=provisional_lease_ms,
            filter=filter,
            max_batch=max_batch,
            max_batch_bytes=max_batch_bytes,
            linger_ms=linger_ms,
            limits=limits,
            close_publisher=close_publisher,
        )
        self._thread = _Thread("proxystream-producer")
        self._closed = False

    @property
    def stats(self) -> ProducerStats:
        """Counters since the producer was made (those of the wrapped :class:`StreamProducer`)."""
        return self._producer.stats

    async def send(self, topic: str, value: object, *, metadata: Metadata | None = None, key: str | None = None, codec: CodecName | None = None) -> SendResult:
        """As :meth:`StreamProducer.send`; raises the same typed errors."""
        if self._closed:
            raise errors.ClosedError("producer is closed", context={"topic": topic})
        return await self._thread.run(self._producer.send, topic, value, metadata=metadata, key=key, codec=codec)

    async def flush(self, topic: str | None = None) -> None:
        """As :meth:`StreamProducer.flush`."""
        await self._thread.run(self._producer.flush, topic)

    async def end(self, topics: str | Iterable[str]) -> None:
        """As :meth:`StreamProducer.end`."""
        await self._thread.run(self._producer.end, topics if isinstance(topics, str) else list(topics))

    async def close(self, *, end: Sequence[str] = ()) -> None:
        """As :meth:`StreamProducer.close`: flushes, ends ``end`` topics and closes the publisher. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._thread.run(self._producer.close, end=tuple(end))
        finally:
            self._thread.shutdown()

    async def __aenter__(self) -> AsyncStreamProducer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class AsyncStreamItem:
    """One received item (see :class:`StreamItem`): ``await item.resolve()``, then ``await item.ack()``."""

    def __init__(self, item: StreamItem, consumer_thread: _Thread, resolve_pool: ThreadPoolExecutor) -> None:
        self.item = item
        """The blocking item underneath."""
        self.id = item.id
        self.topic = item.topic
        self.key = item.key
        self.metadata: Metadata = item.metadata
        self.timestamp = item.timestamp
        self.position = item.position
        self.delivery_count = item.delivery_count
        self.ref = item.ref
        self._thread = consumer_thread
        self._resolve_pool = resolve_pool

    async def resolve(self) -> object:
        """The verified, decoded payload, read on the store threads; the same typed errors as :meth:`StreamItem.resolve`."""
        return await asyncio.get_running_loop().run_in_executor(self._resolve_pool, self.item.resolve)

    async def ack(self, *, release_for: Sequence[str] = ()) -> None:
        """As :meth:`StreamItem.ack`, on the consumer's thread. Idempotent."""
        await self._thread.run(self.item.ack, release_for=tuple(release_for))

    async def nack(self, *, requeue: bool = True, delay_ms: float = 0) -> None:
        """As :meth:`StreamItem.nack`, on the consumer's thread. Idempotent."""
        await self._thread.run(self.item.nack, requeue=requeue, delay_ms=delay_ms)

    def __repr__(self) -> str:
        return f"Async{self.item!r}"


class AsyncStreamConsumer:
    """:class:`StreamConsumer` for asyncio: ``async for item in consumer`` until end of stream or :meth:`close`.

    The same arguments and guarantees as the blocking consumer. Reads, acks and nacks run one at a time
    on the consumer's thread, so an ack issued while the iterator waits for new events runs once that
    wait returns (at most the broker's ``block_ms``); payload reads run on their own threads. Use
    ``async with``: leaving the block closes the subscriber, handing unacked entries back.
    """

    def __init__(
        self,
        subscriber: Subscriber,
        stores: StoreRegistry | Iterable[Store] = (),
        *,
        filter: Callable[[Metadata], bool] | None = None,
        release_on_ack: bool = True,
        release_dropped_for: Sequence[str] = (),
        on_error: Callable[[errors.ProxyStreamError], None] | None = None,
        limits: WireLimits = DEFAULT_WIRE_LIMITS,
        close_subscriber: bool = True,
    ) -> None:
        self._consumer = StreamConsumer(
            subscriber,
            stores,
            filter=filter,
            release_on_ack=release_on_ack,
            release_dropped_for=release_dropped_for,
            on_error=on_error,
            limits=limits,
            close_subscriber=close_subscriber,
        )
        self._thread = _Thread("proxystream-consumer")
        self._resolve_pool = ThreadPoolExecutor(max_workers=RESOLVE_THREADS, thread_name_prefix="proxystream-resolve")
        self._closed = False

    @property
    def group(self) -> str:
        """The consumer group whose hold on payloads this consumer releases."""
        return self._consumer.group

    @property
    def ended(self) -> bool:
        """True once every subscribed topic has reached end of stream."""
        return self._consumer.ended

    @property
    def stats(self) -> ConsumerStats:
        """Counters since the consumer was made."""
        return self._consumer.stats

    def released_before(self, event_id: str) -> bool:
        """As :meth:`StreamConsumer.released_before`."""
        return self._consumer.released_before(event_id)

    async def handled_before(self, item: AsyncStreamItem) -> bool:
        """As :meth:`StreamConsumer.handled_before` (the store read runs on a thread of its own)."""
        return await asyncio.get_running_loop().run_in_executor(self._resolve_pool, self._consumer.handled_before, item.item)

    async def __aiter__(self) -> AsyncIterator[AsyncStreamItem]:
        """Items until end of stream or :meth:`close`."""
        # Each call on the thread returns within about POLL_SECONDS (or the broker's block_ms), so a close
        # (which runs on the same thread) never waits behind an endless read.
        while not self._closed:
            item = await self._thread.run(self._consumer.poll, POLL_SECONDS)
            if item is not None:
                yield AsyncStreamItem(item, self._thread, self._resolve_pool)
            elif self._consumer.ended:
                return

    async def close(self) -> None:
        """Stops iteration and closes the subscriber (unless ``close_subscriber=False``), once a read in progress returned. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._thread.run(self._consumer.close)
        finally:
            self._thread.shutdown()
            self._resolve_pool.shutdown(wait=False)

    async def __aenter__(self) -> AsyncStreamConsumer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
