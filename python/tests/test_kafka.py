"""The Kafka broker (confluent-kafka) against a real Kafka, and against the TypeScript KafkaBroker (dist/):
same partitions for the same keys, the same end-of-stream markers and commit notes both ways.

The Kafka is conftest's ``kafka_brokers``: the vitest global setup's, else one started with
``scripts/servers/cli.mjs`` and stopped after.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from helpers import REPO
from proxystream import ConfigError, KafkaBroker, MissingDependencyError, OutgoingMessage
from proxystream.errors import ConnectionError as ProxyConnectionError
from proxystream.broker.kafka_state import CommitNote, PartitionState, committed_metadata, decode_commit_note, encode_commit_note
from proxystream.wire import decode_dead_letter

TS_KAFKA = Path(__file__).with_name("ts_kafka.mjs")
DIST_KAFKA = REPO / "dist" / "src" / "broker-adapters" / "kafka" / "index.js"


@pytest.fixture
def broker(kafka_brokers: str) -> Iterator[KafkaBroker]:
    pytest.importorskip("confluent_kafka")
    made = KafkaBroker(brokers=kafka_brokers, partitions=3, end_of_stream_poll_ms=100, max_wait_time_ms=200)
    yield made
    made.close()


@pytest.fixture
def topic(broker: KafkaBroker) -> Iterator[str]:
    """A topic of this test alone, deleted after it."""
    name = f"pytest-kafka-{uuid.uuid4().hex[:12]}"
    yield name
    broker.delete_topic(name)


def start_ts_kafka(kafka_brokers: str, request: dict[str, Any]) -> subprocess.Popen[bytes]:
    """Starts one request of ``ts_kafka.mjs`` (the TypeScript KafkaBroker on dist/); give it to :func:`wait_ts_kafka`."""
    node = shutil.which("node")
    if node is None or not DIST_KAFKA.is_file():
        pytest.fail(f"the interop tests need node and {DIST_KAFKA} (npm run build)")
    process = subprocess.Popen([node, str(TS_KAFKA)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(json.dumps({"brokers": kafka_brokers.split(","), **request}).encode())
    process.stdin.close()
    return process


def wait_ts_kafka(process: subprocess.Popen[bytes], timeout: float = 90) -> Any:
    """What a started request printed; fails the test when it failed."""
    assert process.stdout is not None and process.stderr is not None
    try:
        process.wait(timeout=timeout)
    finally:
        if process.returncode is None:
            process.kill()
            process.wait()
    stdout, stderr = process.stdout.read(), process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout)


def ts_kafka(kafka_brokers: str, request: dict[str, Any], timeout: float = 90) -> Any:
    """Runs one request of ``ts_kafka.mjs`` to the end and returns what it printed."""
    return wait_ts_kafka(start_ts_kafka(kafka_brokers, request), timeout)


def java_partition(key: bytes, partitions: int) -> int:
    """Java's default partitioner for a keyed record: ``toPositive(murmur2(key)) % partitions``."""
    m, length = 0x5BD1E995, len(key)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(key[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = length & ~3
    if length % 4 == 3:
        h ^= key[tail + 2] << 16
    if length % 4 >= 2:
        h ^= key[tail + 1] << 8
    if length % 4 >= 1:
        h ^= key[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def read_until_end(subscriber: Any, timeout: float = 60, ack: bool = True) -> tuple[list[Any], Any]:
    """Deliveries of a subscriber until its end of stream (acked unless ``ack`` is False), and the end delivery."""
    items: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = subscriber.poll(1.0)
        if delivery is None:
            continue
        if delivery.end_of_stream:
            return items, delivery
        items.append(delivery)
        if ack:
            delivery.ack()
    raise AssertionError(f"no end of stream within {timeout} s after {len(items)} messages")


def take(subscriber: Any, count: int, timeout: float = 60) -> list[Any]:
    """The next ``count`` deliveries (not acked)."""
    items: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(items) < count and time.monotonic() < deadline:
        delivery = subscriber.poll(1.0)
        if delivery is not None:
            items.append(delivery)
    assert len(items) == count, f"{len(items)} of {count} deliveries within {timeout} s"
    return items


def test_missing_confluent_kafka_raises_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)
    with pytest.raises(MissingDependencyError) as raised:
        KafkaBroker(brokers="127.0.0.1:9")
    assert raised.value.context["package"] == "confluent-kafka"


def test_unreachable_kafka_raises_connection_error() -> None:
    pytest.importorskip("confluent_kafka")
    with KafkaBroker(brokers="127.0.0.1:9", connect_timeout_ms=500) as broker:
        started = time.monotonic()
        with pytest.raises(ProxyConnectionError) as raised, broker.publisher() as publisher:
            publisher.publish("t", [OutgoingMessage(b"x")])
        assert raised.value.context["address"] == "127.0.0.1:9" and raised.value.retriable
        with pytest.raises(ProxyConnectionError):
            broker.subscriber("t", "g")
        assert time.monotonic() - started < 10
    with pytest.raises(ConfigError):
        KafkaBroker(brokers=[], partitions=1)
    with pytest.raises(ConfigError):
        KafkaBroker(brokers="127.0.0.1:9", partitions=0)
    with pytest.raises(ConfigError, match="librdkafka refused"):
        KafkaBroker(brokers="127.0.0.1:9", config={"no.such.property": 1})


def test_commit_notes_are_the_typescript_format() -> None:
    assert encode_commit_note(CommitNote(eos=4, delivered=9, head_count=2)) == 'ps1:{"e":4,"d":9,"h":2}'
    assert encode_commit_note(CommitNote()) == "ps1:{}"
    assert decode_commit_note('ps1:{"e":4,"d":9}') == CommitNote(eos=4, delivered=9)
    assert decode_commit_note('ps1:{"h":1}\0') == CommitNote(head_count=1)  # as confluent-kafka commits it
    for other in (None, "", "x", "ps1:[1]", "ps1:{bad", 'ps1:{"e":-1,"d":"9"}'):
        assert decode_commit_note(other) == CommitNote()


def test_commit_notes_survive_confluent_kafka_reading_past_metadata_without_a_nul() -> None:
    # confluent-kafka reads committed metadata as a C string: a note committed without a trailing NUL comes
    # with the bytes that follow it in memory, valid UTF-8 or not.
    assert decode_commit_note('ps1:{"d":1,"h":1}xxxxxx') == CommitNote(delivered=1, head_count=1)

    class Read:
        @property
        def metadata(self) -> str:
            raise UnicodeDecodeError("utf-8", b'ps1:{"d":1,"h":1}\xff\x01', 17, 18, "invalid start byte")

    assert committed_metadata(Read()) == 'ps1:{"d":1,"h":1}'
    assert decode_commit_note(committed_metadata(Read())) == CommitNote(delivered=1, head_count=1)


def test_the_groups_head_count_holds_until_the_message_is_delivered_again() -> None:
    # The previous member delivered offset 4 twice and left it unacked; this member takes over and settles 5 only.
    state = PartitionState("t", 0, 4, encode_commit_note(CommitNote(delivered=5, head_count=2)))
    state.track(4)
    state.track(5)
    state.delivered(5, 2)
    state.settle(5)
    assert state.pending_commit() is None  # the group's note, head count included, still holds
    assert state.next_count(4) == 3
    state.delivered(4, 3)
    commit = state.pending_commit()
    assert commit is not None and decode_commit_note(commit[1]) == CommitNote(delivered=5, head_count=3)


def test_java_murmur2_reference_values() -> None:
    # Kafka's own UtilsTest values, as partitions of 2^31 - 1 (toPositive(murmur2(key))).
    for text, signed in (("21", -973932308), ("foobar", -790332482), ("a-little-bit-long-string", -985981536), ("abc", 479470107)):
        assert java_partition(text.encode(), 0x7FFFFFFF) == (signed & 0x7FFFFFFF) % 0x7FFFFFFF


def test_python_round_trip_with_a_group(broker: KafkaBroker, topic: str) -> None:
    values = {f"value-{i}".encode(): (None if i % 3 == 0 else f"key-{i % 5}") for i in range(30)}
    with broker.publisher() as publisher:
        publisher.publish(topic, [OutgoingMessage(value, key) for value, key in values.items()])
        publisher.publish(topic, [OutgoingMessage(b"done", end_of_stream=True)])
    group = f"g-{uuid.uuid4().hex[:8]}"
    results: dict[int, tuple[list[Any], Any]] = {}

    def member(index: int) -> None:
        with broker.subscriber(topic, group) as subscriber:
            results[index] = read_until_end(subscriber)

    threads = [threading.Thread(target=member, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert sorted(results) == [0, 1], "both members of the group see the end of stream"
    # As in TypeScript, the end carries the marker's value for members that read a marker (a member whose
    # partitions were already committed past theirs when it got them ends with an empty value).
    ends = [end for _, end in results.values()]
    assert all(end.topic == topic and end.value in (b"done", b"") for end in ends) and any(end.value == b"done" for end in ends)
    seen = {delivery.value: delivery.key for items, _ in results.values() for delivery in items}
    assert seen == values
    # Keys keep their partition: every delivery of one key has the same one.
    partitions: dict[str, set[str]] = {}
    for items, _ in results.values():
        for delivery in items:
            if delivery.key is not None:
                partitions.setdefault(delivery.key, set()).add(delivery.position.split(":")[0])
    assert all(len(found) == 1 for found in partitions.values())


def test_keys_land_on_the_same_partitions_as_typescript(broker: KafkaBroker, kafka_brokers: str, topic: str) -> None:
    keys = ["", "a", "b", "user-1", "user-2", "order-42", "ключ", "日本", "x" * 40] + [f"k{i}" for i in range(20)]
    ts_topic = f"{topic}-ts"
    ts_kafka(kafka_brokers, {"mode": "publish", "partitions": 3, "topic": ts_topic, "batches": [[{"value": key.encode().hex(), "key": key} for key in keys]]})
    with broker.publisher() as publisher:
        publisher.publish(topic, [OutgoingMessage(key.encode(), key) for key in keys])
    try:
        placed = {}
        for name in (topic, ts_topic):
            with broker.subscriber(name, f"g-{uuid.uuid4().hex[:8]}") as subscriber:
                placed[name] = {d.key: int(d.position.split(":")[0]) for d in take(subscriber, len(keys))}
        assert placed[topic] == placed[ts_topic]
        assert placed[topic] == {key: java_partition(key.encode(), 3) for key in keys}
        assert len(set(placed[topic].values())) == 3
    finally:
        broker.delete_topic(ts_topic)


def test_typescript_producer_python_consumer(broker: KafkaBroker, kafka_brokers: str, topic: str) -> None:
    messages = [{"value": bytes([i, 0, 255, i * 7 % 256]).hex(), "key": None if i % 2 else f"k{i % 4}"} for i in range(12)]
    batches = [messages[:6], messages[6:] + [{"value": b"\x00end".hex(), "key": "last", "end": True}]]
    ts_kafka(kafka_brokers, {"mode": "publish", "partitions": 3, "topic": topic, "batches": batches})
    with broker.subscriber(topic, f"g-{uuid.uuid4().hex[:8]}") as subscriber:
        items, end = read_until_end(subscriber)
    assert end.value == b"\x00end"
    assert sorted((d.value.hex(), d.key) for d in items) == sorted((m["value"], m["key"]) for m in messages)
    for key in ("k0", "k2"):  # order per key
        assert [d.value.hex() for d in items if d.key == key] == [m["value"] for m in messages if m["key"] == key]
    assert all(d.delivery_count == 1 for d in items)


def test_python_producer_typescript_consumer(broker: KafkaBroker, kafka_brokers: str, topic: str) -> None:
    messages = [OutgoingMessage(bytes([i, 1, 2, 254]), None if i % 3 == 0 else f"k{i % 4}") for i in range(12)]
    with broker.publisher() as publisher:
        publisher.publish(topic, messages[:5])
        publisher.publish(topic, [*messages[5:], OutgoingMessage(b"\xffend", end_of_stream=True)])
    result = ts_kafka(kafka_brokers, {"mode": "consume", "partitions": 3, "topic": topic, "group": f"g-{uuid.uuid4().hex[:8]}"})
    assert result["end"] == {"value": b"\xffend".hex()}
    items = result["items"]
    assert sorted((item["value"], item["key"]) for item in items) == sorted((m.value.hex(), m.key) for m in messages)
    assert {item["position"].split(":")[0] for item in items} == {"0", "1", "2"}, "keyless messages go round-robin"
    assert all(item["deliveryCount"] == 1 for item in items)


def test_commit_after_ack_unacked_messages_come_back_to_a_new_member(broker: KafkaBroker, kafka_brokers: str, topic: str) -> None:
    with broker.publisher() as publisher:
        publisher.publish(topic, [OutgoingMessage(f"m{i}".encode(), "one-key") for i in range(4)])
    group = f"g-{uuid.uuid4().hex[:8]}"
    assert broker.lag(topic, group) == 4
    assert broker.lag(f"{topic}-missing", group) is None
    with broker.subscriber(topic, group) as first:
        got = take(first, 4)
        assert [d.value for d in got] == [b"m0", b"m1", b"m2", b"m3"]
        for delivery in (got[0], got[2], got[3]):
            delivery.ack()  # m1 stays unacked: the commit stops before it
    assert broker.lag(topic, group) == 3
    with broker.subscriber(topic, group) as second:
        again = take(second, 3)
        assert [(d.value, d.delivery_count) for d in again] == [(b"m1", 2), (b"m2", 2), (b"m3", 2)]
        again[0].nack()
        redelivered = take(second, 1)[0]
        assert (redelivered.value, redelivered.delivery_count) == (b"m1", 3)
        for delivery in (redelivered, again[1]):
            delivery.ack()  # m3 still open
    # An end marker published by TypeScript ends the group once m3 is acked.
    ts_kafka(kafka_brokers, {"mode": "publish", "partitions": 3, "topic": topic, "batches": [[{"value": b"fin".hex(), "end": True}]]})
    with broker.subscriber(topic, group) as third:
        items, end = read_until_end(third)
    assert [(d.value, d.delivery_count) for d in items] == [(b"m3", 3)]
    assert end.value == b"fin"


def test_python_member_reads_the_commit_notes_of_typescript_members(broker: KafkaBroker, kafka_brokers: str, topic: str) -> None:
    with broker.publisher() as publisher:
        publisher.publish(topic, [*(OutgoingMessage(f"m{i}".encode(), "one-key") for i in range(3)), OutgoingMessage(b"fin", end_of_stream=True)])
    group = f"g-{uuid.uuid4().hex[:8]}"
    # A TypeScript member takes m0 and m1 without acking them, and commits past the markers of the other partitions.
    result = ts_kafka(kafka_brokers, {"mode": "consume", "partitions": 3, "topic": topic, "group": group, "count": 2, "ackAll": False})
    assert [(bytes.fromhex(i["value"]), i["deliveryCount"]) for i in result["items"]] == [(b"m0", 1), (b"m1", 1)]
    with broker.subscriber(topic, group) as python_member:
        items, end = read_until_end(python_member)
    assert [(d.value, d.delivery_count) for d in items] == [(b"m0", 2), (b"m1", 2), (b"m2", 1)]
    assert end.value == b"fin"


def test_python_and_typescript_members_cannot_share_a_group_at_once(broker: KafkaBroker, kafka_brokers: str, topic: str) -> None:
    with broker.publisher() as publisher:
        publisher.publish(topic, [OutgoingMessage(b"m0")])
    group = f"g-{uuid.uuid4().hex[:8]}"
    process = start_ts_kafka(kafka_brokers, {"mode": "consume", "partitions": 3, "topic": topic, "group": group})
    try:
        admin = broker._context.admin
        deadline = time.monotonic() + 30
        while not admin.describe_consumer_groups([group])[group].result().members:
            assert time.monotonic() < deadline, "the TypeScript member did not join"
            time.sleep(0.2)
        with broker.subscriber(topic, group) as python_member:
            with pytest.raises(ConfigError, match="cannot share a group"):
                while time.monotonic() < deadline + 30:
                    python_member.poll(1.0)
        with broker.publisher() as publisher:
            publisher.publish(topic, [OutgoingMessage(b"fin", end_of_stream=True)])
    finally:
        result = wait_ts_kafka(process)
    assert [bytes.fromhex(item["value"]) for item in result["items"]] == [b"m0"]


def test_start_at_an_offset_or_a_timestamp(broker: KafkaBroker, topic: str) -> None:
    with broker.publisher() as publisher:
        publisher.publish(topic, [OutgoingMessage(f"m{i}".encode(), "one-key") for i in range(3)])
        time.sleep(0.05)
        since = int(time.time() * 1000)
        time.sleep(0.05)
        publisher.publish(topic, [OutgoingMessage(f"m{i}".encode(), "one-key") for i in range(3, 5)])
    partition = java_partition(b"one-key", 3)
    with broker.subscriber(topic, f"g-{uuid.uuid4().hex[:8]}", start={"offset": f"{partition}:1"}) as from_offset:
        assert [d.value for d in take(from_offset, 4)] == [b"m1", b"m2", b"m3", b"m4"]
    with broker.subscriber(topic, f"g-{uuid.uuid4().hex[:8]}", start={"timestamp": since}) as from_time:
        assert [d.value for d in take(from_time, 2)] == [b"m3", b"m4"]
        assert from_time.poll(0.5) is None
    with pytest.raises(ConfigError):
        broker.subscriber(topic, "g", start={"offset": "x"})


def test_nacked_messages_go_to_the_dead_letter_topic_after_max_deliveries(kafka_brokers: str, topic: str) -> None:
    with KafkaBroker(brokers=kafka_brokers, max_deliveries=2, max_wait_time_ms=200) as broker:
        with broker.publisher() as publisher:
            publisher.publish(topic, [OutgoingMessage(b"poison", "p"), OutgoingMessage(b"fine", "f")])
        group = f"g-{uuid.uuid4().hex[:8]}"
        try:
            with broker.subscriber(topic, group) as subscriber:
                counts = []
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and len(counts) < 3:
                    delivery = subscriber.poll(0.5)
                    if delivery is None:
                        continue
                    counts.append((delivery.value, delivery.delivery_count))
                    if delivery.value == b"poison":
                        delivery.nack()
                    else:
                        delivery.ack()
                assert subscriber.poll(1.0) is None
            assert sorted(counts) == [(b"fine", 1), (b"poison", 1), (b"poison", 2)]
            with broker.subscriber(f"{topic}.dlq", f"g-{uuid.uuid4().hex[:8]}") as dead:
                letter = take(dead, 1)[0]
            assert letter.dead_letter is not None
            assert decode_dead_letter(letter.value) == letter.dead_letter
            assert (letter.dead_letter.original, letter.dead_letter.group, letter.dead_letter.delivery_count) == (b"poison", group, 2)
        finally:
            broker.delete_topic(f"{topic}.dlq")
