"""The ZeroMQ broker: Python to Python in both patterns, and across languages with the TypeScript
``ZmqBroker`` (dist/, through ``ts_zmq.mjs``) on loopback TCP endpoints with ports the binding side picks.

PUB/SUB subscriptions take a moment to reach the publisher (the slow joiner), so every pub-sub test first
publishes ``warm`` messages on a second topic until the subscriber saw one; its own topic then starts at
sequence 0 and nothing is lost.
"""

from __future__ import annotations

import json
import queue
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
from proxystream import errors
from proxystream.broker import OutgoingMessage
from proxystream.wire import FailedMessage, dead_letter_message

zmq = pytest.importorskip("zmq")

from proxystream.broker.zmq import (  # noqa: E402 - after the skip when pyzmq is missing
    ZmqBroker,
    ZmqOptions,
    ZmqPublisher,
    ZmqSubscriber,
    decode_header,
    decode_topic,
    encode_header,
    topic_frame,
)

TS_ZMQ = Path(__file__).with_name("ts_zmq.mjs")
DIST_ZMQ = REPO / "dist" / "src" / "broker-adapters" / "zmq" / "index.js"
ANY_PORT = "tcp://127.0.0.1:*"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def brokers() -> Iterator[list[ZmqBroker]]:
    """Brokers made by a test, closed after it."""
    made: list[ZmqBroker] = []
    yield made
    for broker in made:
        broker.close()


def make(brokers: list[ZmqBroker], **options: Any) -> ZmqBroker:
    broker = ZmqBroker(**{"pattern": "pub-sub", "endpoint": ANY_PORT, "linger_ms": 1000, **options})
    brokers.append(broker)
    return broker


def warm_up(publisher: ZmqPublisher, subscribers: list[ZmqSubscriber], topic: str, timeout: float = 20) -> None:
    """Publishes on ``topic`` until every subscriber (subscribed to it) received one, then drains it."""
    waiting = list(subscribers)
    deadline = time.monotonic() + timeout
    while waiting:
        assert time.monotonic() < deadline, "the subscribers never saw the warm-up topic"
        publisher.publish(topic, [OutgoingMessage(b"warm")])
        for subscriber in list(waiting):
            delivery = subscriber.poll(0.05)
            if delivery is not None:
                assert delivery.topic == topic
                waiting.remove(subscriber)
    for subscriber in subscribers:
        while subscriber.poll(0.1) is not None:
            pass


def drain(subscriber: ZmqSubscriber, quiet: float = 0.5, skip: str | None = None) -> list[Any]:
    """Deliveries until none came for ``quiet`` seconds (those of topic ``skip`` left out)."""
    got = []
    while (delivery := subscriber.poll(quiet)) is not None:
        if delivery.topic != skip:
            got.append(delivery)
    return got


def values(deliveries: list[Any]) -> list[bytes]:
    return [bytes(delivery.value) for delivery in deliveries]


# --- framing ---

HEADERS: list[dict[str, Any]] = [
    {"publisherId": "0001020304050607", "sequence": 0, "endOfStream": False, "key": None},
    {"publisherId": "ffeeddccbbaa9988", "sequence": 1, "endOfStream": True, "key": None},
    {"publisherId": "a1b2c3d4e5f60718", "sequence": 2**32 + 7, "endOfStream": False, "key": "sample-17"},
    {"publisherId": "0000000000000000", "sequence": 2**53 - 1, "endOfStream": True, "key": ""},
    {"publisherId": "1234567890abcdef", "sequence": 4242, "endOfStream": False, "key": "clé ✓ 🚀"},
]


def test_the_header_layout_is_the_typescript_one() -> None:
    header = encode_header(bytes.fromhex("0102030405060708"), 2**32 + 3, True, "k")
    assert header == b"\x01\x03" + bytes.fromhex("0102030405060708") + b"\x00\x00\x00\x01\x00\x00\x00\x03" + b"k"
    decoded = decode_header(header)
    assert (decoded.publisher_id, decoded.sequence, decoded.end_of_stream, decoded.key) == ("0102030405060708", 2**32 + 3, True, "k")
    assert topic_frame("a/b") == b"a/b\x00"
    assert decode_topic(b"a/b\x00") == "a/b"
    assert decode_topic(b"a/b") is None and decode_topic(b"") is None
    for bad in (b"", b"\x01" * 17, b"\x02" + b"\x00" * 17):
        with pytest.raises(errors.MalformedEventError):
            decode_header(bad)


def test_framing_bytes_equal_typescript_ones() -> None:
    python_headers = [encode_header(bytes.fromhex(h["publisherId"]), h["sequence"], h["endOfStream"], h["key"]) for h in HEADERS]
    topics = ["frames", "a", "ünï/cødé", "x" * 256]
    malformed = ["", "01" * 17, "02" + "00" * 17]
    [done] = TsZmq({"mode": "frames", "headers": HEADERS, "topics": topics, "decode": [h.hex() for h in python_headers] + malformed}).finish()
    assert done["headers"] == [h.hex() for h in python_headers]
    assert done["topics"] == [topic_frame(topic).hex() for topic in topics]
    assert done["decoded"][: len(HEADERS)] == HEADERS
    assert done["decoded"][len(HEADERS) :] == [{"code": "PS_MALFORMED_EVENT"}] * len(malformed)
    for typescript, expected in zip(done["headers"], HEADERS):
        header = decode_header(bytes.fromhex(typescript))
        assert {"publisherId": header.publisher_id, "sequence": header.sequence, "endOfStream": header.end_of_stream, "key": header.key} == expected


# --- Python to Python ---


def test_pub_sub_round_trips_values_keys_positions_and_end_of_stream_once(brokers: list[ZmqBroker]) -> None:
    broker = make(brokers)
    topic, warm = unique("zmq-rt"), unique("warm")
    first = broker.subscriber([topic, warm])
    second = broker.subscriber([topic, warm], "other")
    publisher = broker.publisher()
    warm_up(publisher, [first, second], warm)
    publisher.publish(topic, [OutgoingMessage(b"hello", key="k1"), OutgoingMessage(b"world"), OutgoingMessage(b"end", end_of_stream=True)])
    publisher.publish(topic, [OutgoingMessage(b"end-again", end_of_stream=True)])
    publisher.publish(f"{topic}x", [OutgoingMessage(b"prefix-only")])
    for subscriber in (first, second):
        got = drain(subscriber)
        assert values(got) == [b"hello", b"world", b"end"]
        assert [(d.topic, d.key, d.end_of_stream, d.delivery_count) for d in got] == [(topic, "k1", False, 1), (topic, None, False, 1), (topic, None, True, 1)]
        publisher_id = got[0].position.split(":")[0]
        assert len(publisher_id) == 16
        assert [d.position for d in got] == [f"{publisher_id}:{i}" for i in range(3)]
        got[0].ack()
        got[1].nack(requeue=True)
        assert subscriber.poll(0.2) is None  # nothing is redelivered
        assert subscriber.stats().dropped == 0
    assert first.group.startswith("private-") and second.group == "other"
    stats = broker.stats()
    assert stats.subscribers == 2 and stats.sent >= 6 and stats.received >= 8 and stats.malformed == 0


def test_pub_sub_with_the_subscriber_binding(brokers: list[ZmqBroker]) -> None:
    broker = make(brokers, bind="subscriber")
    topic, warm = unique("zmq-sb"), unique("warm")
    subscriber = broker.subscriber([topic, warm])
    assert subscriber.endpoint.startswith("tcp://127.0.0.1:") and not subscriber.endpoint.endswith("*")
    assert broker.endpoint() == subscriber.endpoint
    publisher = broker.publisher()
    assert publisher.ready() == subscriber.endpoint
    warm_up(publisher, [subscriber], warm)
    publisher.publish(topic, [OutgoingMessage(f"m{i}".encode()) for i in range(20)] + [OutgoingMessage(b"", end_of_stream=True)])
    got = drain(subscriber)
    assert values(got) == [f"m{i}".encode() for i in range(20)] + [b""]
    assert got[-1].end_of_stream
    assert subscriber.peer(1.0)


def test_push_pull_load_balances_and_delivers_each_message_once(brokers: list[ZmqBroker]) -> None:
    broker = make(brokers, pattern="push-pull")
    topic = unique("zmq-pp")
    endpoint = broker.endpoint()
    pullers = [broker.subscriber(topic), broker.subscriber(topic, "anything")]
    assert pullers[0].group == f"zmq-pull:{ANY_PORT}"
    assert all(puller.peer(5.0) for puller in pullers)
    time.sleep(0.2)  # both pipes attached, so PUSH deals to both
    publisher = broker.publisher()
    publisher.publish(topic, [OutgoingMessage(str(i).encode(), key=str(i % 3)) for i in range(40)])
    received = [drain(puller) for puller in pullers]
    assert sorted(int(value) for got in received for value in values(got)) == list(range(40))
    assert all(len(got) > 0 for got in received), "both pullers get a share"
    for got in received:
        assert [int(value) for value in values(got)] == sorted(int(value) for value in values(got))  # in order per puller
    assert endpoint.startswith("tcp://127.0.0.1:")


def test_push_pull_with_the_subscriber_binding_end_of_stream_and_unmatched(brokers: list[ZmqBroker]) -> None:
    broker = make(brokers, pattern="push-pull", bind="subscriber")
    topic = unique("zmq-ppb")
    puller = broker.subscriber(topic)
    publisher = broker.publisher()
    publisher.publish(topic, [OutgoingMessage(b"a"), OutgoingMessage(b"b", key="k")], timeout=10)
    publisher.publish(unique("other"), [OutgoingMessage(b"not mine")], timeout=10)
    publisher.publish(topic, [OutgoingMessage(b"end", end_of_stream=True), OutgoingMessage(b"end", end_of_stream=True)], timeout=10)
    got = drain(puller)
    assert [(bytes(d.value), d.key, d.end_of_stream) for d in got] == [(b"a", None, False), (b"b", "k", False), (b"end", None, True)]
    assert puller.stats().unmatched == 1
    assert puller.stats().dropped == 0  # gaps are counted for PUB/SUB only


def test_dead_letters_are_decoded_on_delivery(brokers: list[ZmqBroker]) -> None:
    broker = make(brokers, pattern="push-pull")
    topic = unique("zmq-dlq")
    puller = broker.subscriber(topic)
    failed = FailedMessage(topic="orig", position="p:1", delivery_count=3, group="g", value=b"payload", key=None)
    letter, key = dead_letter_message(failed, errors.ErrorCodes.HANDLER, "boom")
    broker.publisher().publish(topic, [OutgoingMessage(letter, key=key)], timeout=10)
    [delivery] = drain(puller)
    assert delivery.dead_letter is not None and delivery.dead_letter.topic == "orig" and delivery.dead_letter.message == "boom"


def test_malformed_frames_and_sequence_gaps_are_counted(brokers: list[ZmqBroker]) -> None:
    broker = make(brokers, bind="subscriber")
    topic, warm = unique("zmq-raw"), unique("warm")
    subscriber = broker.subscriber([topic, warm])
    context = zmq.Context()
    raw = context.socket(zmq.PUB)
    raw.setsockopt(zmq.LINGER, 1000)
    raw.connect(subscriber.endpoint)
    publisher_id = bytes.fromhex("00112233445566ff")
    try:
        deadline = time.monotonic() + 20
        warm_sequence = 0
        while subscriber.poll(0.05) is None:
            assert time.monotonic() < deadline
            raw.send_multipart([topic_frame(warm), encode_header(publisher_id, warm_sequence, False, None), b"warm"])
            warm_sequence += 1
        drain(subscriber, 0.2)
        raw.send_multipart([topic_frame(topic), encode_header(publisher_id, 0, False, None), b"0"])
        raw.send_multipart([topic_frame(topic), encode_header(publisher_id, 5, False, None), b"5"])
        raw.send_multipart([topic_frame(topic), b"\x09" + b"\x00" * 17, b"bad header"])
        raw.send_multipart([topic_frame(topic), encode_header(publisher_id, 6, False, None)])
        raw.send_multipart([topic_frame(topic)[:-1] + b"x", encode_header(publisher_id, 7, False, None), b"no NUL"])
        raw.send_multipart([topic_frame(topic), encode_header(publisher_id, 8, False, "k"), b"8"])
        got = drain(subscriber, skip=warm)
    finally:
        raw.close()
        context.term()
    assert [(bytes(d.value), d.key) for d in got] == [(b"0", None), (b"5", None), (b"8", "k")]
    stats = subscriber.stats()
    assert stats.malformed == 2  # the bad header and the two-frame message; a topic frame without NUL is no subscription match
    assert stats.dropped == 4 + 2  # 1..4, then 6 and 7 (refused before the gap count)
    assert subscriber.dropped == stats.dropped


def test_options_and_misuse_raise_typed_errors(brokers: list[ZmqBroker]) -> None:
    for bad in ({"endpoint": "127.0.0.1:5555"}, {"pattern": "fan-out"}, {"bind": "both"}, {"linger_ms": -2}, {"send_high_water_mark": 1.5}):
        with pytest.raises(errors.ConfigError):
            ZmqBroker(**{"pattern": "pub-sub", "endpoint": ANY_PORT, **bad})
    with pytest.raises(errors.ConfigError):
        ZmqBroker(endpoint=ANY_PORT)  # no pattern
    options = ZmqOptions(pattern="push-pull", endpoint=ANY_PORT)
    broker = ZmqBroker(options, connect_timeout_ms=100)
    brokers.append(broker)
    assert broker.options.connect_timeout_ms == 100 and broker.pattern == "push-pull"
    for topics in ([], "", "a\0b", "x" * 257):
        with pytest.raises(errors.ConfigError):
            broker.subscriber(topics)
    with pytest.raises(errors.ConfigError):
        broker.subscriber("t", start="0-0")
    publisher = broker.publisher()
    with pytest.raises(errors.ConfigError):
        publisher.publish("a\0", [OutgoingMessage(b"x")])
    publisher.publish("t", [])  # nothing to send: no wait for a puller
    started = time.monotonic()
    with pytest.raises(errors.TimeoutError) as raised:
        publisher.publish("t", [OutgoingMessage(b"nobody pulls")], timeout=0.3)  # PUSH waits for a puller
    assert raised.value.retriable and time.monotonic() - started < 5
    taken = broker.endpoint()
    with pytest.raises(errors.ConnectionError) as in_use:
        make(brokers, endpoint=taken).endpoint()
    assert in_use.value.context["zmqCode"] == "EADDRINUSE"
    waiting = make(brokers, bind="subscriber", connect_timeout_ms=100)
    with pytest.raises(errors.ConnectionError):
        waiting.endpoint()  # no subscriber of it bound the wildcard
    lonely = make(brokers, endpoint="tcp://127.0.0.1:1")
    nobody = lonely.subscriber("t")
    assert nobody.peer(0.2) is False  # connecting to nobody is no error, and peer() says so
    publisher.close()
    with pytest.raises(errors.ClosedError):
        publisher.publish("t", [OutgoingMessage(b"x")])
    broker.close()
    broker.close()
    with pytest.raises(errors.ClosedError):
        broker.publisher()


def test_close_from_another_thread_ends_the_iteration(brokers: list[ZmqBroker]) -> None:
    broker = make(brokers)
    subscriber = broker.subscriber(unique("zmq-close"))
    seen: list[Any] = []
    reader = threading.Thread(target=lambda: seen.extend(subscriber.messages()))
    reader.start()
    time.sleep(0.2)
    subscriber.close()
    reader.join(timeout=5)
    assert not reader.is_alive() and seen == []
    assert broker.stats().subscribers == 0


def test_without_pyzmq_the_broker_raises_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zmq", None)
    with pytest.raises(errors.MissingDependencyError) as raised:
        ZmqBroker(pattern="pub-sub", endpoint=ANY_PORT)
    assert raised.value.code == "PS_MISSING_DEPENDENCY" and raised.value.context["package"] == "pyzmq"
    assert "proxystream[zmq]" in raised.value.message


# --- across languages ---


class TsZmq:
    """ts_zmq.mjs as a child process speaking JSON lines."""

    def __init__(self, request: dict[str, Any]) -> None:
        node = shutil.which("node")
        if node is None or not DIST_ZMQ.is_file():
            pytest.fail(f"the interop tests need node and {DIST_ZMQ} (npm run build)")
        self._process = subprocess.Popen([node, str(TS_ZMQ)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.send(json.dumps(request))

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._events.put(json.loads(line))
        self._events.put(None)

    def send(self, line: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(f"{line}\n".encode())
        self._process.stdin.flush()

    def expect(self, event: str, timeout: float = 30) -> dict[str, Any]:
        try:
            got = self._events.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            pytest.fail(f"ts_zmq.mjs sent no {event!r} within {timeout} s")
        if got is None:
            pytest.fail(f"ts_zmq.mjs ended before {event!r}: {self.stderr()}")
        assert got["event"] == event, got
        return got

    def saw(self, event: str) -> bool:
        """True when the next event has come and is ``event`` (without waiting)."""
        try:
            got = self._events.get_nowait()
        except queue.Empty:
            return False
        if got is None:
            pytest.fail(f"ts_zmq.mjs ended before {event!r}: {self.stderr()}")
        assert got["event"] == event, got
        return True

    def finish(self, timeout: float = 60) -> list[dict[str, Any]]:
        """The remaining events once the process ended; fails the test when it failed."""
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                got = self._events.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                pytest.fail(f"ts_zmq.mjs did not end within {timeout} s")
            if got is None:
                break
            events.append(got)
        self._process.wait(timeout=10)
        assert self._process.returncode == 0, self.stderr()
        return events

    def stderr(self) -> str:
        assert self._process.stderr is not None
        if self._process.poll() is None:
            return ""
        return self._process.stderr.read().decode()

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


@pytest.fixture
def ts_processes() -> Iterator[list[TsZmq]]:
    started: list[TsZmq] = []
    yield started
    for process in started:
        process.kill()


MESSAGES = [
    {"value": "00", "key": None},
    {"value": "68656c6c6f", "key": "k-1"},
    {"value": "ff" * 3000, "key": "clé"},
    {"value": "", "key": ""},
    {"value": "656e64", "key": None, "endOfStream": True},
    {"value": "656e642d616761696e", "key": None, "endOfStream": True},
]
EXPECTED = [(bytes.fromhex(m["value"]), m["key"], bool(m.get("endOfStream"))) for m in MESSAGES[:5]]


def test_typescript_pub_to_python_sub(brokers: list[ZmqBroker], ts_processes: list[TsZmq]) -> None:
    topic, warm = unique("ts-to-py"), unique("warm")
    ts = TsZmq({"mode": "publish", "pattern": "pub-sub", "endpoint": ANY_PORT, "bind": "publisher", "topic": topic, "warmTopic": warm, "messages": MESSAGES})
    ts_processes.append(ts)
    endpoint = ts.expect("ready")["endpoint"]
    broker = make(brokers, endpoint=endpoint)
    subscriber = broker.subscriber([topic, warm])
    deadline = time.monotonic() + 20
    while (delivery := subscriber.poll(0.1)) is None or delivery.topic != warm:
        assert time.monotonic() < deadline, "no warm-up message from TypeScript"
    ts.send("go")
    got = []
    while not got or not got[-1].end_of_stream:
        delivery = subscriber.poll(10)
        assert delivery is not None, f"stopped after {len(got)} messages"
        if delivery.topic == topic:
            got.append(delivery)
    assert [(bytes(d.value), d.key, d.end_of_stream) for d in got] == EXPECTED
    publisher_id = got[0].position.split(":")[0]
    assert [d.position for d in got] == [f"{publisher_id}:{i}" for i in range(5)]
    [done] = ts.finish()
    assert done["sent"] >= len(MESSAGES)
    assert drain(subscriber, 0.3, skip=warm) == []  # the second end of stream is not delivered
    assert subscriber.stats().dropped == 0 and subscriber.stats().malformed == 0


def test_typescript_push_to_python_pull(brokers: list[ZmqBroker], ts_processes: list[TsZmq]) -> None:
    topic = unique("ts-push")
    ts = TsZmq({"mode": "publish", "pattern": "push-pull", "endpoint": ANY_PORT, "bind": "publisher", "topic": topic, "messages": MESSAGES})
    ts_processes.append(ts)
    broker = make(brokers, pattern="push-pull", endpoint=ts.expect("ready")["endpoint"])
    puller = broker.subscriber(topic)
    assert puller.peer(10)
    ts.send("go")
    got = []
    while not got or not got[-1].end_of_stream:
        delivery = puller.poll(10)
        assert delivery is not None, f"stopped after {len(got)} messages"
        got.append(delivery)
    assert [(bytes(d.value), d.key, d.end_of_stream) for d in got] == EXPECTED
    ts.finish()
    assert drain(puller, 0.3) == []  # the second end of stream is not delivered


def test_python_pub_to_typescript_sub(brokers: list[ZmqBroker], ts_processes: list[TsZmq]) -> None:
    topic, warm = unique("py-to-ts"), unique("warm")
    broker = make(brokers)
    endpoint = broker.endpoint()
    ts = TsZmq({"mode": "subscribe", "pattern": "pub-sub", "endpoint": endpoint, "bind": "publisher", "topics": [topic], "warmTopic": warm})
    ts_processes.append(ts)
    ts.expect("ready")
    publisher = broker.publisher()
    deadline = time.monotonic() + 20
    while not ts.saw("warm"):
        assert time.monotonic() < deadline, "TypeScript never saw the warm-up topic"
        publisher.publish(warm, [OutgoingMessage(b"warm")])
        time.sleep(0.05)
    publisher.publish(topic, [OutgoingMessage(bytes.fromhex(m["value"]), key=m["key"], end_of_stream=bool(m.get("endOfStream"))) for m in MESSAGES])
    [done] = ts.finish()
    assert not done["timedOut"]
    got = done["deliveries"]
    assert [(bytes.fromhex(d["value"]), d["key"], d["endOfStream"]) for d in got] == EXPECTED
    assert all(d["deliveryCount"] == 1 for d in got)
    publisher_id = got[0]["position"].split(":")[0]
    assert [d["position"] for d in got] == [f"{publisher_id}:{i}" for i in range(5)]
    assert done["stats"]["dropped"] == 0 and done["stats"]["malformed"] == 0


def test_python_push_to_a_binding_typescript_pull(brokers: list[ZmqBroker], ts_processes: list[TsZmq]) -> None:
    topic = unique("py-push")
    ts = TsZmq({"mode": "subscribe", "pattern": "push-pull", "endpoint": ANY_PORT, "bind": "subscriber", "topics": [topic]})
    ts_processes.append(ts)
    endpoint = ts.expect("ready")["endpoint"]
    broker = make(brokers, pattern="push-pull", endpoint=endpoint, bind="subscriber")  # the publisher connects: TypeScript bound it
    publisher = broker.publisher()
    assert publisher.ready() == endpoint
    publisher.publish(topic, [OutgoingMessage(bytes.fromhex(m["value"]), key=m["key"], end_of_stream=bool(m.get("endOfStream"))) for m in MESSAGES[:5]], timeout=20)
    [done] = ts.finish()
    assert not done["timedOut"]
    assert [(bytes.fromhex(d["value"]), d["key"], d["endOfStream"]) for d in done["deliveries"]] == EXPECTED


def test_arrow_tables_through_a_producer_and_a_consumer_on_zmq(brokers: list[ZmqBroker], tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    from proxystream import FileStore, PayloadLifetime, StreamConsumer, StreamProducer

    broker = make(brokers, pattern="push-pull")
    topic = unique("zmq-arrow")
    store = FileStore(tmp_path / "store")
    consumer = StreamConsumer(broker.subscriber(topic, "workers"), [store])
    tables = [pa.table({"step": pa.array([i] * 1000, pa.int32()), "x": pa.array([float(j) for j in range(1000)])}) for i in range(3)]
    with StreamProducer(broker.publisher(), store, inline_threshold=1024, lifetime=PayloadLifetime(readers=["workers"], ttl_ms=60_000)) as producer:
        results = [producer.send(topic, table, metadata={"index": i}) for i, table in enumerate(tables)]
        producer.end(topic)
    got = []
    for item in consumer:
        assert item.ref is not None and item.ref.codec == "arrow"
        got.append((item.metadata["index"], item.resolve()))
        item.ack()
    assert consumer.ended and len(results) == 3
    assert [index for index, _ in got] == [0, 1, 2]
    assert all(table.equals(tables[index]) for index, table in got)
    assert store.stats().objects == 0  # each released by its one reader
    consumer.close()
