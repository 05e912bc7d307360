"""StreamProducer and StreamConsumer on Redis Streams, within Python and across languages with the TypeScript ones."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
import redis

from conftest import TsStreams
from proxystream.wire import decode_dead_letter
from proxystream import (
    ClosedError,
    ConfigError,
    CorruptPayloadError,
    ErrorCodes,
    FileStore,
    MissingPayloadError,
    OutgoingMessage,
    ProxyStreamError,
    PayloadLifetime,
    RedisStore,
    RedisStreamsBroker,
    StreamConsumer,
    StreamProducer,
    store_by_size,
    store_by_topic,
)

THRESHOLD = 64
"""Payloads of this many bytes or more go to the store in these tests."""


@pytest.fixture
def broker(redis_url: str, stream_prefix: str) -> Iterator[RedisStreamsBroker]:
    with RedisStreamsBroker(url=redis_url, stream_prefix=stream_prefix, block_ms=100) as made:
        yield made


def frame(index: int, width: int = 40) -> np.ndarray:
    return np.arange(2 * width, dtype=np.float32).reshape(2, width) + index


def ts_items(count: int) -> list[dict[str, Any]]:
    """Items for ts_streams.mjs: float32 frames as ``frame`` makes them, the last one small enough to go inline."""
    items = []
    for index in range(count):
        width = 2 if index == count - 1 else 40
        items.append({"values": frame(index, width).reshape(-1).tolist(), "shape": [2, width], "metadata": {"index": index, "unit": "µm"}, "key": f"k{index}"})
    return items


def send_frames(producer: StreamProducer, topic: str, count: int) -> list[str]:
    ids = []
    for index in range(count):
        width = 2 if index == count - 1 else 40
        ids.append(producer.send(topic, frame(index, width), metadata={"index": index, "unit": "µm"}, key=f"k{index}").id)
    return ids


def test_python_to_python_stores_large_payloads_commits_them_and_releases_them_on_ack(broker: RedisStreamsBroker, store: RedisStore, raw: redis.Redis, prefix: str) -> None:
    consumer = StreamConsumer(broker.subscriber("frames", "py"), [store], filter=lambda metadata: metadata["index"] != 1)
    with StreamProducer(broker.publisher(), store, inline_threshold=THRESHOLD, lifetime=PayloadLifetime(readers=["py"], ttl_ms=120_000)) as producer:
        results = [producer.send("frames", frame(i, 40 if i < 2 else 2), metadata={"index": i}) for i in range(3)]
        assert [r.inline for r in results] == [False, False, True] and results[0].store_id == "redis"
        assert 0 < raw.pttl(f"{prefix}:{{{results[0].id}}}:m") <= 60_000  # the provisional lease until the publish
        producer.flush()
        assert 60_000 < raw.pttl(f"{prefix}:{{{results[0].id}}}:m") <= 120_000  # committed: the full TTL
        producer.end("frames")
    assert producer.stats.stored == 2 and producer.stats.inline == 1
    with consumer:
        seen = []
        for item in consumer:
            assert item.ref.inline == (item.metadata["index"] == 2)
            np.testing.assert_array_equal(item.resolve(), frame(int(item.metadata["index"]), 40 if item.metadata["index"] < 2 else 2))
            seen.append(item.metadata["index"])
            item.ack()
        assert seen == [0, 2] and consumer.ended and consumer.stats.filtered == 1
    assert store.stats().objects == 0


def test_store_policies_pick_a_store_per_payload_and_the_consumer_resolves_from_each(
    broker: RedisStreamsBroker, store: RedisStore, tmp_path: Path
) -> None:
    with FileStore(str(tmp_path / "shm"), id="shm") as small:
        by_size = store_by_size(small, store, min_bytes=1024)
        by_topic = store_by_topic({"bulk": store}, small)
        lifetime = PayloadLifetime(readers=["py"], ttl_ms=60_000)
        with StreamProducer(broker.publisher(), lambda topic, size: (by_topic if topic != "frames" else by_size)(topic, size), inline_threshold=THRESHOLD, lifetime=lifetime) as producer:
            sent = [producer.send("frames", frame(i, width), metadata={"width": width}) for i, width in enumerate((2, 20, 400))]
            sent += [producer.send(topic, frame(9, 20), metadata={"width": 20}) for topic in ("bulk", "other")]
            producer.end(["frames", "bulk", "other"])
        assert [(r.inline, r.store_id) for r in sent] == [(True, None), (False, "shm"), (False, "redis"), (False, "redis"), (False, "shm")]
        for topic in ("frames", "bulk", "other"):
            with StreamConsumer(broker.subscriber(topic, "py"), [store, small]) as consumer:
                for item in consumer:
                    assert item.resolve().shape == (2, item.metadata["width"])
                    item.ack()
        assert store.stats().objects == 0 and small.stats().objects == 0
        with StreamProducer(broker.publisher(), lambda topic, size: "redis", inline_threshold=THRESHOLD) as wrong:  # type: ignore[arg-type,return-value]
            with pytest.raises(ConfigError, match="store policy returned 'redis'"):
                wrong.send("frames", frame(0, 40))
            assert wrong.stats.stored == 0
    with pytest.raises(ConfigError, match="store must be a store"):
        StreamProducer(broker.publisher(), "redis")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="min_bytes"):
        store_by_size(store, store, -1)


def _two_events_by_ref(broker: RedisStreamsBroker, store: RedisStore, raw: redis.Redis, stream_prefix: str, topic: str) -> list[bytes]:
    """Sends two frames by ref for the group ``py`` to ``topic``; returns their encoded events as the stream holds them."""
    with StreamProducer(broker.publisher(), store, inline_threshold=0, lifetime=PayloadLifetime(readers=["py"], ttl_ms=60_000)) as producer:
        for i in range(2):
            producer.send(topic, frame(i, 4), metadata={"index": i})
    return [fields[b"v"] for _, fields in raw.xrange(f"{stream_prefix}{topic}")]


def test_another_delivery_of_an_event_whose_payload_was_released_is_acked_and_skipped(broker: RedisStreamsBroker, store: RedisStore, raw: redis.Redis, stream_prefix: str) -> None:
    copies = _two_events_by_ref(broker, store, raw, stream_prefix, "twice")
    with StreamConsumer(broker.subscriber("twice", "py"), [store]) as consumer:
        seen = []
        for item in consumer:
            item.resolve()
            item.ack()
            seen.append(item.id)
            if len(seen) == 2:
                assert consumer.flush() and store.stats().objects == 0
                # The broker delivers both events again (a retried batch written twice).
                with broker.publisher() as again:
                    again.publish("twice", [OutgoingMessage(value) for value in copies])
                with StreamProducer(broker.publisher()) as ender:
                    ender.end("twice")
        assert len(seen) == 2 and consumer.stats.duplicates == 2
        assert all(consumer.released_before(event_id) for event_id in seen)


def test_another_member_of_the_group_learns_from_the_store_that_its_group_handled_a_copy(broker: RedisStreamsBroker, store: RedisStore, raw: redis.Redis, stream_prefix: str) -> None:
    copies = _two_events_by_ref(broker, store, raw, stream_prefix, "copied")
    with StreamConsumer(broker.subscriber("copied", "py"), [store]) as first:
        for count, item in enumerate(first, 1):
            item.resolve()
            item.ack()
            if count == len(copies):
                break
    assert store.stats().objects == 0
    with broker.publisher() as again:
        again.publish("copied", [OutgoingMessage(value) for value in copies])
    # A new member of the group gets the copies; a group that never read the events gets the originals.
    for group, handled in (("py", True), ("other", False)):
        with StreamConsumer(broker.subscriber("copied", group, start="earliest"), [store]) as second:
            verdicts = []
            for item in second:
                with pytest.raises(MissingPayloadError):
                    item.resolve()
                verdicts.append(second.handled_before(item))
                item.ack()
                if len(verdicts) == len(copies):
                    break
            assert verdicts == [handled] * len(copies)


def test_acks_are_sent_from_a_thread_and_an_unconfirmed_ack_releases_nothing(redis_url: str, store: RedisStore, raw: redis.Redis, stream_prefix: str) -> None:
    user = f"psnoack{uuid.uuid4().hex[:8]}"
    raw.execute_command("ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all", "-xack")
    try:
        denied = RedisStreamsBroker(url=redis_url.replace("redis://", f"redis://{user}:pw@", 1), stream_prefix=stream_prefix)
        with StreamProducer(denied.publisher(), store, inline_threshold=0, lifetime=PayloadLifetime(readers=["py"], ttl_ms=60_000)) as producer:
            for i in range(3):
                producer.send("noack", frame(i, 4), metadata={"index": i})
        reported: list[ProxyStreamError] = []
        kept: list[str] = []
        with StreamConsumer(denied.subscriber("noack", "py"), [store], on_error=reported.append) as consumer:
            for item in consumer:
                item.resolve()
                item.ack()
                kept.append(item.id)
                if len(kept) == 3:
                    break
            assert consumer.flush()
            # Redis refused every XACK: each is reported, nothing is released, and the entries stay pending.
            assert [error.code for error in reported] == ["PS_CONNECTION"] * 3
            assert store.stats().objects == 3
            assert raw.xpending(f"{stream_prefix}noack", "py")["pending"] == 3
        denied.close()
        assert all(store.delete(key) for key in kept)
    finally:
        raw.execute_command("ACL", "DELUSER", user)


def test_the_producer_publishes_once_the_oldest_queued_event_waited_linger_ms(broker: RedisStreamsBroker, store: RedisStore, raw: redis.Redis, stream_prefix: str) -> None:
    stream = f"{stream_prefix}lingering"
    with StreamProducer(broker.publisher(), store, linger_ms=200) as producer:
        producer.send("lingering", b"first")
        producer.send("lingering", b"second")
        assert raw.xlen(stream) == 0, "sent before the oldest event lingered 200 ms"
        time.sleep(0.25)
        producer.send("lingering", b"third")
        assert raw.xlen(stream) == 3
        producer.send("lingering", b"fourth")
        assert raw.xlen(stream) == 3
    assert raw.xlen(stream) == 4, "close() publishes what is queued"
    with StreamProducer(broker.publisher(), store, linger_ms=0) as eager:
        eager.send("lingering", b"fifth")
        assert raw.xlen(stream) == 5
    for bad in (-1, float("inf"), True, "5"):
        with pytest.raises(ProxyStreamError) as raised:
            StreamProducer(broker.publisher(), store, linger_ms=bad)  # type: ignore[arg-type]
        assert raised.value.code == ErrorCodes.CONFIG


def test_malformed_events_are_reported_and_acked_nacked_items_come_back_and_the_producer_filters(broker: RedisStreamsBroker, store: RedisStore) -> None:
    reported: list[ProxyStreamError] = []
    consumer = StreamConsumer(broker.subscriber("mixed-bag", "py"), [store], on_error=reported.append)
    with broker.publisher() as raw_publisher:
        raw_publisher.publish("mixed-bag", [OutgoingMessage(b"not an event")])
    producer = StreamProducer(broker.publisher(), store, filter=lambda metadata, topic: metadata.get("keep") is True)
    assert producer.send("mixed-bag", b"dropped", metadata={"keep": False}).filtered
    kept = producer.send("mixed-bag", b"kept", metadata={"keep": True})
    producer.close(end=["mixed-bag"])
    with pytest.raises(ClosedError):
        producer.send("mixed-bag", b"late")
    assert (producer.stats.sent, producer.stats.filtered, producer.stats.inline) == (1, 1, 1)
    with consumer:
        deliveries = []
        for item in consumer:
            assert (item.id, item.resolve()) == (kept.id, b"kept")
            deliveries.append(item.delivery_count)
            if item.delivery_count == 1:
                item.nack()
            else:
                item.ack()
        assert deliveries == [1, 2] and consumer.ended
    assert [error.code for error in reported] == [ErrorCodes.MALFORMED_EVENT] and consumer.stats.malformed == 1


def test_malformed_events_become_dead_letter_records_on_the_dead_letter_topic(broker: RedisStreamsBroker, store: RedisStore) -> None:
    with broker.publisher() as raw_publisher:
        raw_publisher.publish("bad", [OutgoingMessage(b"not an event", key="k1"), OutgoingMessage(b"\x93\x01", key=None)])
    with broker.publisher() as dead_letters, StreamProducer(broker.publisher()) as producer:
        producer.send("bad", b"fine")
        producer.end("bad")
        with StreamConsumer(broker.subscriber("bad", "py"), [store], dead_letter=(dead_letters, lambda topic: f"{topic}.dlq")) as consumer:
            items = []
            for item in consumer:
                items.append(item.resolve())
                item.ack()
            assert items == [b"fine"] and consumer.stats.malformed == 2 and consumer.ended
    with broker.subscriber("bad.dlq", "reader") as reader:
        letters = []
        while len(letters) < 2:
            delivery = reader.poll(5)
            assert delivery is not None, "the dead letters did not arrive"
            letters.append((decode_dead_letter(delivery.value), delivery.key))
            delivery.ack()
    assert [(letter.original, letter.topic, letter.group, letter.code, letter.delivery_count, key) for letter, key in letters] == [
        (b"not an event", "bad", "py", ErrorCodes.MALFORMED_EVENT, 1, "k1"),
        (b"\x93\x01", "bad", "py", ErrorCodes.MALFORMED_EVENT, 1, None),
    ]
    with broker.subscriber("bad", "py") as subscriber, pytest.raises(ConfigError):
        StreamConsumer(subscriber, [store], dead_letter=(object(), "x"))  # type: ignore[arg-type]


def test_a_typescript_producer_to_a_python_consumer(broker: RedisStreamsBroker, store: RedisStore, ts_streams: TsStreams) -> None:
    sent = ts_streams.run({"mode": "produce", "topic": "ts-to-py", "inlineThreshold": THRESHOLD, "readers": ["py"], "items": ts_items(5), "end": True})
    assert [result["inline"] for result in sent] == [False] * 4 + [True]
    assert store.stats().objects == 4
    with StreamConsumer(broker.subscriber("ts-to-py", "py"), [store]) as consumer:
        received = []
        for item in consumer:
            array = item.resolve()
            assert isinstance(array, np.ndarray) and array.dtype == np.float32
            np.testing.assert_array_equal(array, frame(len(received), array.shape[1]))
            received.append((item.id, item.key, item.metadata, item.delivery_count))
            item.ack()
        assert consumer.ended
    assert received == [(result["id"], f"k{i}", {"index": i, "unit": "µm"}, 1) for i, result in enumerate(sent)]
    assert store.stats().objects == 0


def test_a_python_producer_to_a_typescript_consumer(broker: RedisStreamsBroker, store: RedisStore, ts_streams: TsStreams) -> None:
    with StreamProducer(broker.publisher(), store, inline_threshold=THRESHOLD, lifetime=PayloadLifetime(readers=["ts"], ttl_ms=60_000)) as producer:
        ids = send_frames(producer, "py-to-ts", 5)
        producer.end("py-to-ts")
    assert store.stats().objects == 4
    consumed = ts_streams.run({"mode": "consume", "topic": "py-to-ts", "group": "ts"})
    assert consumed["ended"] is True
    assert [item["id"] for item in consumed["items"]] == ids
    for index, item in enumerate(consumed["items"]):
        width = 2 if index == 4 else 40
        assert (item["key"], item["metadata"], item["shape"]) == (f"k{index}", {"index": index, "unit": "µm"}, [2, width])
        assert item["values"] == frame(index, width).reshape(-1).tolist()
    assert store.stats().objects == 0


def test_a_typescript_and_a_python_consumer_share_one_group(broker: RedisStreamsBroker, store: RedisStore, ts_streams: TsStreams, raw: redis.Redis, stream_prefix: str) -> None:
    group = f"mixed-{uuid.uuid4().hex[:8]}"
    with RedisStreamsBroker(url=broker.options.url, stream_prefix=stream_prefix, block_ms=100, batch_size=1) as one_at_a_time:
        consumer = StreamConsumer(one_at_a_time.subscriber("shared", group), [store])
        with StreamProducer(broker.publisher(), store, inline_threshold=THRESHOLD, lifetime=PayloadLifetime(readers=[group], ttl_ms=60_000)) as producer:
            ids = send_frames(producer, "shared", 30)
            producer.end("shared")
        typescript = ts_streams.start({"mode": "consume", "topic": "shared", "group": group, "batchSize": 1, "workMs": 20})
        # Start reading once the TypeScript consumer has read its first entry (Redis lists it from then on).
        deadline = time.monotonic() + 20
        while not raw.xinfo_consumers(f"{stream_prefix}shared", group):
            assert time.monotonic() < deadline, "the TypeScript consumer did not join the group"
            time.sleep(0.02)
        mine = []
        with consumer:
            for item in consumer:
                np.testing.assert_array_equal(item.resolve(), frame(int(item.metadata["index"]), 40 if item.metadata["index"] < 29 else 2))
                mine.append(item.id)
                time.sleep(0.02)
                item.ack()
            assert consumer.ended
        theirs = ts_streams.wait(typescript)
    assert theirs["ended"] is True
    their_ids = [item["id"] for item in theirs["items"]]
    assert mine and their_ids, f"one side did all the work: python {len(mine)}, typescript {len(their_ids)}"
    assert not set(mine) & set(their_ids)
    assert sorted(mine + their_ids) == sorted(ids)
    assert store.stats().objects == 0


def test_a_corrupted_payload_raises_corrupt_payload_error_in_python(broker: RedisStreamsBroker, store: RedisStore, ts_streams: TsStreams, raw: redis.Redis, prefix: str) -> None:
    sent = ts_streams.run({"mode": "produce", "topic": "corrupt", "inlineThreshold": THRESHOLD, "readers": ["py"], "items": ts_items(2)[:1], "end": True})
    chunk = f"{prefix}:{{{sent[0]['id']}}}:c:0"
    stored = bytearray(raw.get(chunk) or b"")
    stored[-1] ^= 0xFF
    raw.set(chunk, bytes(stored), keepttl=True)
    with StreamConsumer(broker.subscriber("corrupt", "py"), [store]) as consumer:
        for item in consumer:
            with pytest.raises(CorruptPayloadError) as raised:
                item.resolve()
            assert raised.value.code == ErrorCodes.CORRUPT_PAYLOAD and raised.value.context["key"] == sent[0]["id"]
            item.ack()
        assert consumer.ended and consumer.stats.yielded == 1
    assert store.stats().objects == 0


def test_a_python_producer_through_the_typescript_dispatcher_to_python_workers(broker: RedisStreamsBroker, store: RedisStore, ts_streams: TsStreams) -> None:
    readers = "py-workers"
    with StreamProducer(broker.publisher(), store, inline_threshold=THRESHOLD, lifetime=PayloadLifetime(readers=[readers], ttl_ms=60_000)) as producer:
        sent = [producer.send("jobs", frame(i), metadata={"index": i, "skip": i % 5 == 4}).id for i in range(20)]
        producer.end("jobs")
    dispatcher = ts_streams.start_script(
        "ts_dispatch.mjs", {"source": "jobs", "group": "dispatch", "remoteTopic": "jobs.remote", "readerGroup": readers}
    )
    done: dict[str, list[str]] = {}
    failures: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with StreamConsumer(broker.subscriber("jobs.remote", readers, consumer=name), [store]) as consumer:
                done[name] = []
                for item in consumer:
                    np.testing.assert_array_equal(item.resolve(), frame(int(item.metadata["index"])))
                    done[name].append(item.id)
                    time.sleep(0.01)
                    item.ack()
                assert consumer.ended
        except BaseException as error:  # reported to the test thread
            failures.append(error)

    workers = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(2)]
    for worker in workers:
        worker.start()
    assert ts_streams.wait(dispatcher) == {"error": None}
    for worker in workers:
        worker.join(timeout=30)
    assert not failures, failures
    handled = [item for ids in done.values() for item in ids]
    assert sorted(handled) == sorted(key for i, key in enumerate(sent) if i % 5 != 4)
    assert store.stats().objects == 0  # handled ones released by the workers, skipped ones by the dispatcher
