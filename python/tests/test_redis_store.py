"""RedisStore against a real Redis: layout, chunking and lifetimes, and objects shared with the TypeScript store."""

from __future__ import annotations

import base64
import os
import time

import numpy as np
import pytest
import redis

from conftest import TsStore
from helpers import b64
from proxystream import RedisStreamsBroker, errors
from proxystream.store import RedisStore
from proxystream.wire import checksum, encode_ndarray

CHUNK = 1024


@pytest.fixture
def store(redis_url: str, prefix: str):
    with RedisStore(url=redis_url, key_prefix=prefix, chunk_bytes=CHUNK, pipeline_chunks=2) as made:
        yield made


def test_round_trips_empty_small_multi_part_and_chunked_objects(store: RedisStore) -> None:
    chunked = os.urandom(CHUNK * 5 + 17)
    store.put("empty", b"")
    store.put("small", b"hello")
    store.put("parts", [b"ab", memoryview(b"cd"), bytearray(b"ef")])
    store.put("chunked", [chunked[:100], chunked[100:3000], chunked[3000:]])
    assert store.get("empty") == b""
    assert store.get("small") == b"hello"
    assert store.get("small", expected_size=5) == b"hello"
    assert store.get("parts") == b"abcdef"
    assert store.get("chunked") == chunked
    assert store.get("chunked", expected_size=len(chunked)) == chunked
    assert store.get("missing") is None
    assert store.exists("small") and not store.exists("missing")
    assert store.stats().objects == 4 and store.stats().bytes == 5 + 6 + len(chunked)
    for key in ("empty", "small", "parts", "chunked"):
        assert store.delete(key)
    assert not store.delete("small")


def test_writes_the_key_layout_of_the_typescript_store(store: RedisStore, raw: redis.Redis, prefix: str, ts_store: TsStore) -> None:
    data = os.urandom(CHUNK * 2 + 1)
    store.put("py", data, readers=["a", "b", "a"], ttl_ms=60_000.5, lease_ms=30_000)
    ts_store([{"op": "put", "key": "ts", "base64": b64(data), "options": {"readers": ["a", "b", "a"], "ttlMs": 60_000.5, "leaseMs": 30_000}}])
    for key in ("py", "ts"):
        assert sorted(k.decode() for k in raw.scan_iter(match=f"{prefix}:{{{key}}}:*")) == [f"{prefix}:{{{key}}}:{part}" for part in ("c:0", "c:1", "c:2", "m")]
    assert raw.hgetall(f"{prefix}:{{py}}:m") == raw.hgetall(f"{prefix}:{{ts}}:m") == {
        b"size": str(len(data)).encode(),
        b"chunks": b"3",
        b"chunkBytes": str(CHUNK).encode(),
        b"readers": b'["a","b"]',
        b"ttlMs": b"60001",
    }
    for key in ("py", "ts"):
        for part in ("m", "c:0", "c:2"):
            assert 25_000 < raw.pttl(f"{prefix}:{{{key}}}:{part}") <= 30_000
    assert store.commit(["py", "ts"]) == []
    assert 55_000 < raw.pttl(f"{prefix}:{{ts}}:c:1") <= 60_001
    assert store.delete("py") and store.delete("ts")


def test_a_smaller_object_under_the_same_key_drops_the_extra_chunks(store: RedisStore, raw: redis.Redis, prefix: str) -> None:
    store.put("k", os.urandom(CHUNK * 4))
    store.put("k", b"short")
    assert store.get("k") == b"short"
    assert raw.exists(f"{prefix}:{{k}}:c:1") == 0
    assert store.delete("k")


def test_an_object_missing_a_chunk_reads_as_missing_and_is_not_committed(store: RedisStore, raw: redis.Redis, prefix: str) -> None:
    store.put("k", os.urandom(CHUNK * 3), lease_ms=60_000)
    raw.delete(f"{prefix}:{{k}}:c:1")
    assert store.get("k") is None
    assert store.commit(["k"]) == ["k"]
    assert raw.exists(f"{prefix}:{{k}}:m", f"{prefix}:{{k}}:c:0") == 0


def test_named_readers_release_it_and_the_last_one_deletes_it(store: RedisStore) -> None:
    store.put("k", b"data", readers=["a", "b"], ttl_ms=60_000)
    assert store.release("k", "stranger") is False
    assert store.release("k", "a") is False
    assert store.release("k", "a") is False
    assert store.get("k") == b"data"
    assert store.released_by("k") == []
    assert store.release("k", "b") is True
    assert store.get("k") is None
    assert store.release("k", "b") is False
    assert store.released_by("k") == ["a", "b"]


def test_the_readers_of_a_released_object_are_remembered_for_remember_releases_ms(redis_url: str, raw: redis.Redis, prefix: str) -> None:
    for remember, kept in ((None, 300_000), (0, 0)):
        options = {} if remember is None else {"remember_releases_ms": remember}
        with RedisStore(url=redis_url, key_prefix=f"{prefix}-{kept}", **options) as store:  # type: ignore[arg-type]
            store.put("k", b"data", readers=["a"], ttl_ms=60_000)
            assert store.release("k", "a") is True
            left = raw.keys(f"{prefix}-{kept}:*")
            if kept == 0:
                assert left == [] and store.released_by("k") == []
                continue
            assert left == [f"{prefix}-{kept}:{{k}}:r".encode()]
            assert kept - 1_000 < raw.pttl(left[0]) <= kept
            store.put("k", b"anew", readers=["a"])
            assert store.released_by("k") == [] and raw.scard(left[0]) == 0
            assert store.delete("k") and raw.keys(f"{prefix}-{kept}:*") == []


def test_a_count_of_readers_needs_that_many_distinct_groups(store: RedisStore) -> None:
    store.put("k", b"data", readers=2)
    assert store.release("k", "x") is False
    assert store.release("k", "x") is False
    assert store.release("k", "y") is True


def test_a_lease_expires_unless_committed_and_the_ttl_applies_from_the_commit(store: RedisStore, raw: redis.Redis, prefix: str) -> None:
    store.put("leased", b"1", lease_ms=50, ttl_ms=60_000)
    store.put("committed", b"2", lease_ms=20_000, ttl_ms=60_000)
    store.put("forever", b"3", lease_ms=20_000)
    assert raw.pttl(f"{prefix}:{{forever}}:c:0") <= 20_000
    assert store.commit(["committed", "forever"]) == []
    time.sleep(0.15)
    assert store.get("leased") is None
    assert store.commit(["leased"]) == ["leased"]
    assert store.get("committed") == b"2" and raw.pttl(f"{prefix}:{{committed}}:m") > 50_000
    assert store.get("forever") == b"3" and raw.pttl(f"{prefix}:{{forever}}:c:0") == -1
    assert store.delete("committed") and store.delete("forever")


def test_bad_keys_options_and_readers_raise_typed_errors(redis_url: str, store: RedisStore) -> None:
    for key in ("", ".hidden", "a/b", "x" * 256, 5):
        with pytest.raises(errors.InvalidKeyError) as raised:
            store.put(key, b"")  # type: ignore[arg-type]
        assert raised.value.code == "PS_INVALID_KEY"
    for options in ({"readers": []}, {"readers": 0}, {"readers": [""]}, {"ttl_ms": 0}, {"lease_ms": float("inf")}):
        with pytest.raises(errors.ConfigError):
            store.put("k", b"", **options)  # type: ignore[arg-type]
    with pytest.raises(errors.ConfigError):
        store.release("k", "")
    for options in ({"key_prefix": "bad prefix"}, {"chunk_bytes": 10}, {"pipeline_chunks": 0}, {"id": ""}, {"remember_releases_ms": -1}):
        with pytest.raises(errors.ConfigError):
            RedisStore(url=redis_url, **options)  # type: ignore[arg-type]
    with pytest.raises(errors.ConfigError):
        RedisStore(client=redis.Redis.from_url(redis_url, decode_responses=True))


def test_an_unreachable_server_raises_connection_error_and_a_closed_store_closed_error() -> None:
    unreachable = RedisStore(url="redis://127.0.0.1:1", connect_timeout_ms=200)
    with pytest.raises(errors.ConnectionError) as raised:
        unreachable.get("k")
    assert raised.value.retriable and raised.value.context == {"address": "127.0.0.1:1"}
    unreachable.close()
    unreachable.close()
    with pytest.raises(errors.ClosedError):
        unreachable.get("k")


def test_refused_credentials_raise_a_connection_error_that_is_not_retriable(redis_url: str) -> None:
    denied = redis_url.replace("redis://", "redis://nobody:wrong@", 1)
    with RedisStore(url=denied, connect_timeout_ms=5_000) as store:
        with pytest.raises(errors.ConnectionError, match="refused the credentials") as raised:
            store.put("k", b"x")
        assert raised.value.retriable is False and raised.value.code == "PS_CONNECTION"
    with RedisStreamsBroker(url=denied, connect_timeout_ms=5_000) as broker:
        started = time.monotonic()
        with pytest.raises(errors.ConnectionError, match="refused the credentials") as raised:
            broker.subscriber("t", "g")
        assert raised.value.retriable is False and time.monotonic() - started < 1


def test_an_object_written_by_typescript_is_read_released_and_deleted_here(store: RedisStore, ts_store: TsStore) -> None:
    chunked = os.urandom(CHUNK * 3 + 5)
    ts_store(
        [
            {"op": "put", "key": "chunked", "base64": b64(chunked), "options": {"readers": ["py", "ts"], "ttlMs": 60_000, "leaseMs": 60_000}},
            {"op": "commit", "keys": ["chunked"]},
            {"op": "put", "key": "deleted", "base64": b64(b"x")},
            {"op": "put", "key": "counted", "base64": b64(b"y"), "options": {"readers": 1}},
        ]
    )
    assert store.get("chunked") == chunked
    assert checksum(store.get("chunked", expected_size=len(chunked)) or b"") == checksum(chunked)
    assert store.release("chunked", "py") is False
    assert ts_store([{"op": "release", "key": "chunked", "reader": "ts"}, {"op": "exists", "key": "chunked"}]) == [True, False]
    assert store.released_by("chunked") == ["py", "ts"]
    assert store.delete("deleted")
    assert store.release("counted", "any") is True


def test_large_objects_cross_over_in_both_directions(redis_url: str, prefix: str, ts_store: TsStore) -> None:
    big = os.urandom(300_000)
    with RedisStore(url=redis_url, key_prefix=prefix, chunk_bytes=64 * 1024) as store:
        store.put("from-py", big)
        results = ts_store(
            [{"op": "put", "key": "from-ts", "base64": b64(big)}, {"op": "get", "key": "from-py"}, {"op": "delete", "key": "from-py"}],
            chunk_bytes=64 * 1024,
        )
        assert base64.b64decode(results[1]) == big and results[2] is True
        assert store.get("from-ts") == big
        assert store.delete("from-ts")


def test_an_object_written_here_is_read_committed_released_and_deleted_by_typescript(store: RedisStore, ts_store: TsStore) -> None:
    array = os.urandom(CHUNK * 4)
    head, data = encode_ndarray(np.frombuffer(array, dtype="<f8"))
    store.put("frame", [head, data], readers=["ts", "py"], ttl_ms=60_000, lease_ms=60_000)
    store.put("plain", b"plain")
    store.put("gone", b"gone", lease_ms=30)
    time.sleep(0.1)
    results = ts_store(
        [
            {"op": "commit", "keys": ["frame", "gone"]},
            {"op": "get", "key": "frame"},
            {"op": "get", "key": "plain", "expectedSize": 5},
            {"op": "release", "key": "frame", "reader": "ts"},
            {"op": "delete", "key": "plain"},
        ]
    )
    assert results[0] == ["gone"]
    assert base64.b64decode(results[1]) == bytes(head) + array
    assert base64.b64decode(results[2]) == b"plain"
    assert results[3] is False and results[4] is True
    assert store.release("frame", "py") is True
    assert not store.exists("frame") and not store.exists("plain")
    assert ts_store([{"op": "releasedBy", "key": "frame"}, {"op": "releasedBy", "key": "plain"}]) == [["py", "ts"], []]
