"""A consumer's read-ahead against a real Redis: the next payload is fetched while the caller works on this one,
from entries already read only, and its errors, acks and close behave as without it; the same read-ahead from a
Kafka subscriber's fetches and a ZeroMQ socket's queue (payloads in the same RedisStore)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Callable, Iterator

import pytest

from proxystream import (
    ErrorCodes,
    KafkaBroker,
    MissingPayloadError,
    PayloadLifetime,
    RedisStore,
    RedisStreamsBroker,
    StreamConsumer,
    StreamProducer,
    ZmqBroker,
    errors,
)
from proxystream.store.types import Buffer


class RecordingStore:
    """The real RedisStore, recording which thread read which key (instrumentation, not a stand-in)."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self.id = store.id
        self.reads: list[tuple[str, str]] = []

    def get(self, key: str, *, expected_size: int | None = None) -> Buffer | None:
        self.reads.append((key, threading.current_thread().name))
        return self._store.get(key, expected_size=expected_size)

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


@pytest.fixture
def store(redis_url: str, prefix: str) -> Iterator[RedisStore]:
    """Chunks of 1 KiB, so the 3,000-byte payloads below are read on the store's own sockets."""
    with RedisStore(url=redis_url, key_prefix=prefix, chunk_bytes=1024) as made:
        yield made


@pytest.fixture
def broker(redis_url: str, stream_prefix: str) -> Iterator[RedisStreamsBroker]:
    with RedisStreamsBroker(url=redis_url, stream_prefix=stream_prefix, block_ms=200) as made:
        yield made


def _send(broker: Any, store: RedisStore, count: int, group: str = "g", inline_every: int = 0, topic: str = "t") -> list[str]:
    """``count`` payloads of 3,000 bytes by ref (every ``inline_every``-th one inline, 30 bytes); their event ids."""
    with StreamProducer(broker.publisher(), store, inline_threshold=100, lifetime=PayloadLifetime(readers=[group])) as producer:
        sizes = [30 if inline_every and index % inline_every == 0 else 3000 for index in range(count)]
        keys = [producer.send(topic, bytes([index]) * size, metadata={"index": index}).id for index, size in enumerate(sizes)]
        producer.end(topic)
    return keys


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_the_next_payload_is_fetched_on_the_prefetch_thread_while_the_caller_holds_this_one(broker: RedisStreamsBroker, store: RedisStore) -> None:
    keys = _send(broker, store, 6)
    recording = RecordingStore(store)
    with StreamConsumer(broker.subscriber("t", "g"), [recording]) as consumer:
        for position, item in enumerate(consumer):
            if 0 < position < len(keys) - 1:
                upcoming = keys[position + 1]
                assert _wait_for(lambda: any(key == upcoming and name.startswith("proxystream-prefetch") for key, name in recording.reads))
            assert item.resolve() == bytes([item.metadata["index"]]) * 3000
            item.ack()
        consumer.flush()
    readers = dict(recording.reads)
    assert len(recording.reads) == len(readers) == len(keys) and set(readers) == set(keys), "each payload read once"
    me = threading.current_thread().name
    assert readers[keys[0]] == readers[keys[1]] == me, "read-ahead starts once the caller resolved an item"
    assert all(readers[key].startswith("proxystream-prefetch") for key in keys[2:])
    assert store.stats().objects == 0


def test_kafka_and_zeromq_subscribers_feed_the_read_ahead_too(request: pytest.FixtureRequest, store: RedisStore) -> None:
    """Each payload but the first two is read on the prefetch thread: the producer sends all before the consumer
    starts, so a Kafka fetch and the PULL socket's queue hold the next items while the caller works on one."""
    pytest.importorskip("confluent_kafka")
    pytest.importorskip("zmq")
    topic = f"pytest-prefetch-{uuid.uuid4().hex[:12]}"
    kafka = KafkaBroker(brokers=request.getfixturevalue("kafka_brokers"), end_of_stream_poll_ms=100, max_wait_time_ms=200)
    zeromq = ZmqBroker(pattern="push-pull", endpoint="tcp://127.0.0.1:*", linger_ms=1000)
    try:
        for broker in (kafka, zeromq):
            subscriber = broker.subscriber(topic, "g")  # before the sends: the PULL socket binds, the PUSH side connects
            keys = _send(broker, store, 8, topic=topic)
            recording = RecordingStore(store)
            with StreamConsumer(subscriber, [recording]) as consumer:
                for item in consumer:
                    assert item.resolve() == bytes([item.metadata["index"]]) * 3000
                    item.ack()
                consumer.flush()
            readers = dict(recording.reads)
            assert len(recording.reads) == len(readers) == len(keys) and set(readers) == set(keys), f"{broker}: each payload read once"
            prefetched = [key for key in keys if readers[key].startswith("proxystream-prefetch")]
            assert len(prefetched) >= len(keys) - 3, f"{broker}: read ahead {len(prefetched)} of {len(keys)}"
            assert store.stats().objects == 0
    finally:
        kafka.delete_topic(topic)
        kafka.close()
        zeromq.close()


def test_without_prefetch_nothing_is_read_before_resolve(broker: RedisStreamsBroker, store: RedisStore) -> None:
    _send(broker, store, 3)
    recording = RecordingStore(store)
    with StreamConsumer(broker.subscriber("t", "g"), [recording], prefetch=0) as consumer:
        for item in consumer:
            time.sleep(0.05)
            assert recording.reads == []
            item.resolve()
            assert len(recording.reads) == 1 and recording.reads[0][1] == threading.current_thread().name
            recording.reads.clear()
            item.ack()
        consumer.flush()
    assert store.stats().objects == 0


def test_a_consumer_that_resolves_only_inline_payloads_reads_no_stored_one(broker: RedisStreamsBroker, store: RedisStore) -> None:
    _send(broker, store, 8, inline_every=2)
    recording = RecordingStore(store)
    with StreamConsumer(broker.subscriber("t", "g"), [recording]) as consumer:
        for item in consumer:
            if item.ref.inline:
                assert item.resolve() == bytes([item.metadata["index"]]) * 30
            time.sleep(0.02)
            item.ack()
        consumer.flush()
    assert recording.reads == [], "a consumer handing refs on never fetches them"
    assert store.stats().objects == 0


def test_a_prefetch_that_fails_raises_from_resolve_and_the_next_items_go_on(broker: RedisStreamsBroker, store: RedisStore) -> None:
    keys = _send(broker, store, 5)
    assert store.delete(keys[3])
    recording = RecordingStore(store)
    outcomes: list[object] = []
    with StreamConsumer(broker.subscriber("t", "g"), [recording]) as consumer:
        for item in consumer:
            try:
                outcomes.append(item.resolve()[:1])  # type: ignore[index]
            except MissingPayloadError as error:
                outcomes.append(error.code)
            item.ack()
        consumer.flush()
    assert outcomes == [b"\x00", b"\x01", b"\x02", ErrorCodes.MISSING_PAYLOAD, b"\x04"]
    assert dict(recording.reads)[keys[3]].startswith("proxystream-prefetch"), "the failed read was a prefetch"
    assert store.stats().objects == 0


def test_items_read_ahead_when_an_iteration_stops_come_first_in_the_next(broker: RedisStreamsBroker, store: RedisStore) -> None:
    _send(broker, store, 6)
    seen: list[int] = []
    with StreamConsumer(broker.subscriber("t", "g"), [store]) as consumer:
        for _ in range(2):
            for item in consumer:
                seen.append(item.metadata["index"])
                item.resolve()
                item.ack()
                if len(seen) in (2, 3):
                    break
        while (polled := consumer.poll(1)) is not None:  # bounded: a lost item would hold back the end of stream
            seen.append(polled.metadata["index"])
            polled.ack()
        consumer.flush()
    assert seen == [0, 1, 2, 3, 4, 5], "nothing read ahead is skipped or delivered twice"
    assert store.stats().objects == 0


def test_a_close_mid_stream_loses_nothing_read_ahead(broker: RedisStreamsBroker, store: RedisStore, redis_url: str, stream_prefix: str) -> None:
    keys = _send(broker, store, 10)
    seen: list[int] = []
    with StreamConsumer(broker.subscriber("t", "g", consumer="first"), [store]) as consumer:
        for item in consumer:
            seen.append(item.metadata["index"])
            item.ack()
            if len(seen) == 4:
                break
        consumer.flush()
    assert seen == [0, 1, 2, 3]
    with RedisStreamsBroker(url=redis_url, stream_prefix=stream_prefix, block_ms=200, visibility_timeout_ms=100) as again:
        with StreamConsumer(again.subscriber("t", "g", consumer="second"), [store]) as consumer:
            time.sleep(0.2)
            for item in consumer:
                seen.append(item.metadata["index"])
                item.resolve()
                item.ack()
            consumer.flush()
    assert sorted(seen) == list(range(10)) and len(keys) == 10
    assert store.stats().objects == 0


def test_prefetch_must_be_a_small_count(broker: RedisStreamsBroker, store: RedisStore) -> None:
    for bad in (-1, 65, 1.5, True, "1"):
        with pytest.raises(errors.ConfigError, match="prefetch"):
            StreamConsumer(broker.subscriber("t", "g"), [store], prefetch=bad)  # type: ignore[arg-type]
