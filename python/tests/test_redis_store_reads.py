"""RedisStore reads on its own payload sockets, against a real Redis: objects of several chunks land in one
buffer, bytes changed behind the store's back come back as stored, and the sockets survive what redis-py's do."""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest
import redis

from proxystream import errors
from proxystream.store import RedisStore

CHUNK = 1024


@pytest.fixture
def store(redis_url: str, prefix: str) -> Iterator[RedisStore]:
    with RedisStore(url=redis_url, key_prefix=prefix, chunk_bytes=CHUNK, pipeline_chunks=2) as made:
        yield made


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    """A Redis of this test alone, on a unix socket: the tests that count or kill connections use it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    path = tmp_path / "redis.sock"
    process = subprocess.Popen([binary, "--port", "0", "--unixsocket", str(path), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        yield f"unix://{path}"
    finally:
        process.terminate()
        process.wait(10)



def _payload_clients(server: redis.Redis) -> list[dict[str, object]]:
    """Connections whose last command was a payload read (the store's payload sockets)."""
    return [client for client in server.client_list() if client.get("cmd") in ("get", "hmget")]


def test_an_object_of_several_chunks_lands_in_one_read_only_buffer(store: RedisStore) -> None:
    data = os.urandom(CHUNK * 5 + 17)
    store.put("k", data)
    for read in (store.get("k"), store.get("k", expected_size=len(data))):
        assert isinstance(read, memoryview) and read.readonly and read.nbytes == len(data) and read == data
    store.put("small", b"hello")
    assert store.get("small", expected_size=5) == b"hello" and isinstance(store.get("small", expected_size=5), bytes)
    assert store.get("small") == b"hello"
    store.put("empty", b"")
    assert store.get("empty") == b""
    assert store.get("missing") is None and store.get("missing", expected_size=CHUNK * 4) is None
    assert store.delete("k") and store.delete("small") and store.delete("empty")


def test_chunks_changed_behind_the_stores_back_come_back_as_stored(store: RedisStore, raw: redis.Redis, prefix: str) -> None:
    data = os.urandom(CHUNK * 4)
    store.put("k", data)
    raw.set(f"{prefix}:{{k}}:c:1", b"short")
    assert store.get("k") == data[:CHUNK] + b"short" + data[2 * CHUNK :]
    store.put("k", data)
    raw.hset(f"{prefix}:{{k}}:m", "size", 10**15)
    assert store.get("k") == data, "a meta hash that does not fit its chunks gets no buffer of its size"
    raw.hset(f"{prefix}:{{k}}:m", "size", "many")
    assert store.get("k") is None
    assert store.delete("k")


def test_a_missing_chunk_mid_window_leaves_the_socket_in_step_for_the_next_read(private_redis: str) -> None:
    data = os.urandom(CHUNK * 4)
    with RedisStore(url=private_redis, chunk_bytes=CHUNK, pipeline_chunks=2) as store, redis.Redis.from_url(private_redis) as server:
        store.put("k", data)
        server.delete("ps:{k}:c:1")
        assert store.get("k") is None, "chunk 1 is missing; chunk 2's reply in the same window is read too"
        store.put("k", data)
        assert store.get("k") == data
        assert len(_payload_clients(server)) == 1, "the one socket was reused, not replaced"
        assert store.delete("k")


def test_refusals_on_the_payload_sockets_are_typed_connection_errors(private_redis: str) -> None:
    with redis.Redis.from_url(private_redis) as server:
        with RedisStore(url=private_redis, chunk_bytes=CHUNK) as store:
            store.put("k", os.urandom(CHUNK * 2))
            clients = len(server.client_list())
            server.config_set("maxclients", clients)
            try:
                with pytest.raises(errors.ConnectionError) as raised:
                    store.get("k")
                assert raised.value.retriable and raised.value.context == {"address": private_redis.removeprefix("unix://")}
            finally:
                server.config_set("maxclients", 10_000)
            assert store.delete("k")
        with RedisStore(url=f"{private_redis}?db=99", chunk_bytes=CHUNK) as store:
            with pytest.raises(errors.ConnectionError, match="Invalid Database"):
                store.get("k")


def test_reads_from_many_threads_share_a_few_sockets(private_redis: str) -> None:
    objects = {f"k{index}": os.urandom(CHUNK * 3 + index) for index in range(16)}
    with RedisStore(url=private_redis, chunk_bytes=CHUNK) as store, redis.Redis.from_url(private_redis) as server:
        for key, data in objects.items():
            store.put(key, data)
        with ThreadPoolExecutor(max_workers=4) as pool:
            reads = list(pool.map(lambda key: (key, store.get(key)), [key for key in objects for _ in range(8)]))
        assert all(read == objects[key] for key, read in reads)
        assert 1 <= len(_payload_clients(server)) <= 4
    with redis.Redis.from_url(private_redis) as server:
        assert _payload_clients(server) == [], "close() closes the payload sockets"


def test_a_socket_closed_by_the_server_while_idle_is_replaced(private_redis: str) -> None:
    data = os.urandom(CHUNK * 3)
    with RedisStore(url=private_redis, chunk_bytes=CHUNK) as store, redis.Redis.from_url(private_redis) as server:
        store.put("k", data)
        assert store.get("k") == data
        assert server.client_kill_filter(_type="normal", skipme=True) >= 2
        time.sleep(0.05)
        assert store.get("k") == data


def test_a_forked_child_reads_on_sockets_of_its_own(store: RedisStore) -> None:
    objects = {"a": os.urandom(CHUNK * 3), "b": os.urandom(CHUNK * 4)}
    for key, data in objects.items():
        store.put(key, data)
    assert store.get("a") == objects["a"], "the parent has an idle payload socket when it forks"
    context = mp.get_context("fork")
    results = context.Queue()
    started = context.Event()

    def child_reads() -> None:
        started.set()
        results.put(all(store.get("b") == objects["b"] for _ in range(2000)))

    child = context.Process(target=child_reads)
    child.start()
    assert started.wait(30)
    assert all(store.get("a") == objects["a"] for _ in range(2000)), "parent and child read at the same time"
    assert results.get(timeout=30) is True
    child.join(30)
    assert child.exitcode == 0
    assert store.delete("a") and store.delete("b")


def test_credentials_and_database_of_the_url_apply_to_the_payload_sockets(redis_url: str, raw: redis.Redis, prefix: str) -> None:
    user, password = f"bulk-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    raw.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all"])
    try:
        url = redis_url.replace("redis://", f"redis://{user}:{password}@", 1) + "/3"
        data = os.urandom(CHUNK * 3)
        with RedisStore(url=url, key_prefix=prefix, chunk_bytes=CHUNK) as store:
            store.put("k", data)
            assert store.get("k") == data
            db3 = redis.Redis.from_url(redis_url + "/3")
            assert db3.exists(f"{prefix}:{{k}}:c:2") == 1 and raw.exists(f"{prefix}:{{k}}:c:2") == 0
            assert store.delete("k")
            db3.close()
        denied = redis_url.replace("redis://", f"redis://{user}:wrong@", 1)
        with RedisStore(url=denied, key_prefix=prefix, chunk_bytes=CHUNK) as store:
            with pytest.raises(errors.ConnectionError, match="refused the credentials") as raised:
                store.get("k")
            assert raised.value.retriable is False
    finally:
        raw.acl_deluser(user)


def test_an_unreachable_server_is_a_connection_error_on_reads_of_any_size() -> None:
    with RedisStore(url="redis://127.0.0.1:1", connect_timeout_ms=200) as store:
        for expected_size in (None, 10, 10 * 1024 * 1024):
            with pytest.raises(errors.ConnectionError) as raised:
                store.get("k", expected_size=expected_size)
            assert raised.value.retriable and raised.value.context == {"address": "127.0.0.1:1"}


def test_a_unix_socket_url_reads_on_unix_payload_sockets(private_redis: str) -> None:
    data = os.urandom(CHUNK * 4 + 1)
    with RedisStore(url=private_redis, chunk_bytes=CHUNK) as store:
        store.put("k", data)
        read = store.get("k")
        assert isinstance(read, memoryview) and read == data
