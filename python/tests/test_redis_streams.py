"""The Redis Streams adapter against a real Redis: fields, groups, acks, redelivery, dead letters, end of stream."""

from __future__ import annotations

import socket
import time
import uuid
from typing import Iterator

import pytest
import redis

from proxystream import ClosedError, ConfigError, Delivery, OutgoingMessage, RedisStreamsBroker, errors
from proxystream.broker import RedisStreamsSubscriber
from proxystream.wire import DEFAULT_MAX_DELIVERIES, decode_dead_letter


@pytest.fixture
def broker(redis_url: str, stream_prefix: str) -> Iterator[RedisStreamsBroker]:
    with RedisStreamsBroker(url=redis_url, stream_prefix=stream_prefix, block_ms=100, visibility_timeout_ms=600) as made:
        yield made


def take(subscriber: RedisStreamsSubscriber, count: int, timeout: float = 10) -> list[Delivery]:
    """The next ``count`` deliveries (end markers included)."""
    taken: list[Delivery] = []
    deadline = time.monotonic() + timeout
    for delivery in subscriber.messages():
        taken.append(delivery)
        if len(taken) == count:
            return taken
        assert time.monotonic() < deadline, f"only {len(taken)} of {count} deliveries arrived"
    return taken


def test_writes_the_fields_and_end_of_stream_hash_of_the_typescript_adapter(broker: RedisStreamsBroker, raw: redis.Redis, stream_prefix: str) -> None:
    with broker.publisher() as publisher:
        publisher.publish("t", [OutgoingMessage(b"\x00one"), OutgoingMessage(b"two", key="k")])
        publisher.publish("t", [OutgoingMessage(b"end", key="ek", end_of_stream=True)])
    rows = raw.xrange(f"{stream_prefix}t")
    assert [fields for _, fields in rows] == [{b"v": b"\x00one"}, {b"v": b"two", b"k": b"k"}, {b"v": b"end", b"e": b"1", b"k": b"ek"}]
    assert raw.hgetall(f"{stream_prefix}t:ps-eos") == {b"id": rows[2][0], b"v": b"end", b"k": b"ek"}
    with pytest.raises(ClosedError):
        publisher.publish("t", [OutgoingMessage(b"late")])


def test_a_group_shares_entries_and_every_group_sees_every_entry(broker: RedisStreamsBroker) -> None:
    one = broker.subscriber("t", "g1", consumer="a")
    two = broker.subscriber("t", "g1", consumer="b")
    other = broker.subscriber("t", "g2")
    with broker.publisher() as publisher:
        publisher.publish("t", [OutgoingMessage(str(i).encode()) for i in range(6)])
    first = take(one, 6)
    assert [d.value for d in first] == [str(i).encode() for i in range(6)]
    for delivery in first:
        delivery.ack()
    assert [d.value for d in take(other, 6)] == [d.value for d in first]
    with broker.publisher() as publisher:
        publisher.publish("t", [OutgoingMessage(b"late")])
    assert [d.value for d in take(two, 1)] == [b"late"]


def test_unacked_entries_come_back_after_the_visibility_timeout_then_go_to_the_dead_letter_stream(redis_url: str, stream_prefix: str, raw: redis.Redis) -> None:
    with RedisStreamsBroker(url=redis_url, stream_prefix=stream_prefix, block_ms=50, visibility_timeout_ms=100, max_deliveries=2) as broker:
        with broker.publisher() as publisher:
            publisher.publish("t", [OutgoingMessage(b"poison", key="p")])
        # Each subscriber stalls holding the entry: it stops refreshing it and never acks or hands it back.
        counts = []
        for _ in range(2):
            subscriber = broker.subscriber("t", "g")
            counts.append(take(subscriber, 1)[0].delivery_count)
            subscriber._held.stop()  # a stalled process
        assert counts == [1, 2]
        survivor = broker.subscriber("t", "g")
        time.sleep(0.2)
        with broker.publisher() as publisher:
            publisher.publish("t", [OutgoingMessage(b"next")])
        assert [d.value for d in take(survivor, 1)] == [b"next"]
        letters = raw.xrange(f"{stream_prefix}t.dlq")
        assert len(letters) == 1 and letters[0][1][b"k"] == b"p"
        letter = decode_dead_letter(letters[0][1][b"v"])
        assert (letter.topic, letter.group, letter.delivery_count, letter.code, letter.original, letter.key) == ("t", "g", 2, "PS_HANDLER", b"poison", "p")
        assert letter.message == "delivered 2 times without an ack (maxDeliveries 2)"
        assert raw.xpending(f"{stream_prefix}t", "g")["pending"] == 1  # only "next", still held
        dead = broker.subscriber("t.dlq", "replay")
        assert take(dead, 1)[0].dead_letter == letter
    assert DEFAULT_MAX_DELIVERIES == 10 == RedisStreamsBroker(url=redis_url).options.max_deliveries


def test_a_held_entry_is_not_claimed_away_and_a_nack_redelivers_it(broker: RedisStreamsBroker) -> None:
    one = broker.subscriber("t", "g")
    two = broker.subscriber("t", "g")
    with broker.publisher() as publisher:
        publisher.publish("t", [OutgoingMessage(b"x")])
    held = take(one, 1)[0]
    assert two.poll(1.3) is None  # over twice the visibility timeout
    held.nack()
    again = take(two, 1)[0]
    assert (again.value, again.delivery_count) == (b"x", 2)
    again.ack()


def test_closing_hands_unacked_entries_to_the_group_at_once(broker: RedisStreamsBroker) -> None:
    one = broker.subscriber("t", "g")
    with broker.publisher() as publisher:
        publisher.publish("t", [OutgoingMessage(b"x")])
    take(one, 1)
    one.close()
    two = broker.subscriber("t", "g")
    started = time.monotonic()
    assert take(two, 1)[0].value == b"x"
    assert time.monotonic() - started < 0.6  # before the visibility timeout


def test_end_of_stream_reaches_every_consumer_of_every_group_once_its_group_settled(broker: RedisStreamsBroker) -> None:
    members = [broker.subscriber("t", "g", consumer=name) for name in ("a", "b")]
    other = broker.subscriber("t", "h")
    with broker.publisher() as publisher:
        publisher.publish("t", [OutgoingMessage(b"1"), OutgoingMessage(b"2")])
        publisher.publish("t", [OutgoingMessage(b"end", end_of_stream=True)])
    first = take(members[0], 2)
    assert [d.end_of_stream for d in first] == [False, False]
    # b gets nothing, not even the end, while a holds entries from before the marker.
    assert members[1].poll(0.4) is None
    for delivery in first:
        delivery.ack()
    for member in members:
        end = member.poll(5)
        assert end is not None and (end.end_of_stream, end.value) == (True, b"end")
    seen = take(other, 2)
    assert [(d.value, d.end_of_stream) for d in seen] == [(b"1", False), (b"2", False)]
    assert other.poll(0.3) is None  # the end waits for h's acks
    for delivery in seen:
        delivery.ack()
    end = other.poll(5)
    assert end is not None and end.end_of_stream


def test_a_private_group_starts_at_the_end_and_is_destroyed_on_close(broker: RedisStreamsBroker, raw: redis.Redis, stream_prefix: str) -> None:
    with broker.publisher() as publisher:
        publisher.publish("t", [OutgoingMessage(b"before")])
        subscriber = broker.subscriber("t")
        publisher.publish("t", [OutgoingMessage(b"after")])
    assert take(subscriber, 1)[0].value == b"after"
    subscriber.close()
    assert raw.xinfo_groups(f"{stream_prefix}t") == []


def test_bad_options_and_an_unreachable_server_raise_typed_errors(stream_prefix: str) -> None:
    with pytest.raises(ConfigError):
        RedisStreamsBroker(block_ms=0)
    with pytest.raises(ConfigError):
        RedisStreamsBroker(no_such_option=1)
    with pytest.raises(ConfigError):
        RedisStreamsBroker(trim_acked="yes")
    port = unused_port()
    with RedisStreamsBroker(url=f"redis://127.0.0.1:{port}", connect_timeout_ms=200) as broker:
        with pytest.raises(errors.ConnectionError) as raised:
            broker.subscriber("t", "g")
        assert raised.value.context["address"] == f"127.0.0.1:{port}"
        with pytest.raises(errors.ConnectionError):
            broker.publisher().publish("t", [OutgoingMessage(b"x")])


def unused_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_topics_are_checked(broker: RedisStreamsBroker) -> None:
    with pytest.raises(ConfigError):
        broker.subscriber([], "g")
    with pytest.raises(ConfigError):
        broker.subscriber("x" * 257, f"g-{uuid.uuid4()}")


def test_a_unicode_topic_is_delivered_under_its_own_name(broker: RedisStreamsBroker) -> None:
    subscriber = broker.subscriber("µ-frames", "g")
    with broker.publisher() as publisher:
        publisher.publish("µ-frames", [OutgoingMessage(b"x")])
    delivery = take(subscriber, 1)[0]
    assert (delivery.topic, delivery.value) == ("µ-frames", b"x")
    delivery.ack()


@pytest.mark.parametrize("trim", [True, False])
def test_trim_acked_trims_what_every_group_is_done_with_and_nothing_without_it(redis_url: str, stream_prefix: str, raw: redis.Redis, trim: bool) -> None:
    from proxystream.broker.redis_streams.acked_trim import TRIM_INTERVAL_S

    with RedisStreamsBroker(url=redis_url, stream_prefix=stream_prefix, block_ms=100, trim_acked=trim) as broker:
        done = broker.subscriber("t", "done")
        behind = broker.subscriber("t", "behind")
        with broker.publisher() as publisher:
            publisher.publish("t", [OutgoingMessage(str(i).encode().ljust(2_000, b".")) for i in range(200)])
        for delivery in take(done, 200):
            delivery.ack()
        # "behind" holds entries 50-99 unacked and has not read 100-199: everything from entry 50 on stays.
        held = take(behind, 100)
        for delivery in held[:50]:
            delivery.ack()
        time.sleep(TRIM_INTERVAL_S + 0.1)
        with broker.publisher() as publisher:
            publisher.publish("t", [OutgoingMessage(b"last")])
        take(done, 1)[0].ack()
        time.sleep(0.3)
        left = [entry_id.decode() for entry_id, _ in raw.xrange(f"{stream_prefix}t")]
        assert held[50].position in left
        if trim:
            assert len(left) <= 153
        else:
            assert len(left) == 201


def test_trim_acked_trims_the_last_acks_at_the_end_of_the_interval_and_on_close(redis_url: str, stream_prefix: str, raw: redis.Redis) -> None:
    from proxystream.broker.redis_streams.acked_trim import TRIM_INTERVAL_S

    with RedisStreamsBroker(url=redis_url, stream_prefix=stream_prefix, block_ms=100, trim_acked=True) as broker:
        subscriber = broker.subscriber("t", "g")
        for round_ in range(2):
            with broker.publisher() as publisher:
                publisher.publish("t", [OutgoingMessage(f"{round_}-{i}".encode().ljust(2_000, b".")) for i in range(50)])
            for delivery in take(subscriber, 50):
                delivery.ack()
            assert subscriber.flush_acks()
        time.sleep(TRIM_INTERVAL_S + 0.3)
        assert raw.xlen(f"{stream_prefix}t") <= 3
        with broker.publisher() as publisher:
            publisher.publish("t", [OutgoingMessage(str(i).encode().ljust(2_000, b".")) for i in range(50)])
        for delivery in take(subscriber, 50):
            delivery.ack()
        subscriber.close()
        assert raw.xlen(f"{stream_prefix}t") <= 3
