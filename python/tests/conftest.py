"""Fixtures: a real Redis (the one the vitest global setup started, else one of our own) and the TS store."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import redis

from helpers import REPO, given_or_started
from proxystream import RedisStore

REDIS_URL_VARIABLE = "PROXYSTREAM_TEST_REDIS_URL"
TS_STORE = Path(__file__).with_name("ts_store.mjs")
DIST_STORE = REPO / "dist" / "src" / "store" / "redis" / "index.js"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_redis() -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server), or set PROXYSTREAM_TEST_REDIS_URL")
    for _ in range(5):
        port = _free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}"
        client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            try:
                client.ping()
                client.close()
                return process, url
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        client.close()
        process.kill()
        process.wait()
    pytest.fail("could not start redis-server on a free loopback port")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The vitest global setup's Redis when it is given, else a redis-server started here and stopped after."""
    given = os.environ.get(REDIS_URL_VARIABLE, "").strip()
    if given:
        yield given
        return
    process, url = _start_redis()
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def kafka_brokers() -> Iterator[str]:
    """The vitest global setup's Kafka (``PROXYSTREAM_TEST_KAFKA_BROKERS``) when it is given, else one started with
    the project's server script and stopped after."""
    yield from given_or_started("PROXYSTREAM_TEST_KAFKA_BROKERS", "kafka", lambda info: ",".join(info["brokers"]))


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    """A plain client, to look at keys."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def prefix(raw: redis.Redis) -> Iterator[str]:
    """A key prefix of this test alone; whatever is left under it fails the test's teardown, except the
    expiring records of who released an object (the store keeps them for ``remember_releases_ms``)."""
    name = f"pytest-{uuid.uuid4().hex[:12]}"
    yield name
    keys = [key.decode() for key in raw.scan_iter(match=f"{name}:*")]
    left = [key for key in keys if not (key.endswith(":r") and f"{key[:-2]}:m" not in keys and raw.pttl(key) > 0)]
    if keys:
        raw.delete(*keys)
    assert left == [], f"keys left in Redis: {left}"


@pytest.fixture
def store(redis_url: str, prefix: str) -> Iterator[RedisStore]:
    """A RedisStore with default settings under the test's key prefix (a test module may define its own ``store``)."""
    with RedisStore(url=redis_url, key_prefix=prefix) as made:
        yield made


TsStore = Callable[..., list[Any]]


@pytest.fixture
def ts_store(redis_url: str, prefix: str) -> TsStore:
    """Runs operations on the TypeScript RedisStore (dist/) under the same prefix; returns their results."""
    return lambda ops, chunk_bytes=1024: run_ts_store({"url": redis_url, "keyPrefix": prefix, "chunkBytes": chunk_bytes, "ops": ops})


def run_ts_store(request: dict[str, Any]) -> list[Any]:
    """Runs ``ts_store.mjs`` (the TypeScript RedisStore on dist/) with ``request``; returns what it printed."""
    node = shutil.which("node")
    if node is None or not DIST_STORE.is_file():
        pytest.fail(f"the interop tests need node and {DIST_STORE} (npm run build)")
    done = subprocess.run([node, str(TS_STORE)], input=json.dumps(request).encode(), capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    result: list[Any] = json.loads(done.stdout)
    return result


TS_STREAMS = Path(__file__).with_name("ts_streams.mjs")


@pytest.fixture
def stream_prefix(raw: redis.Redis) -> Iterator[str]:
    """A stream key prefix of this test alone; its streams and end-of-stream hashes are deleted after it."""
    name = f"pytest-streams-{uuid.uuid4().hex[:12]}:"
    yield name
    left = list(raw.scan_iter(match=f"{name}*"))
    if left:
        raw.delete(*left)


class TsStreams:
    """Runs ``ts_streams.mjs`` (the TypeScript StreamProducer and StreamConsumer on dist/), or another node
    script of this folder (``ts_dispatch.mjs``: the Dispatcher), against the test's Redis, stream prefix and
    store key prefix."""

    def __init__(self, redis_url: str, stream_prefix: str, key_prefix: str) -> None:
        node = shutil.which("node")
        if node is None or not DIST_STORE.is_file():
            pytest.fail(f"the interop tests need node and {DIST_STORE} (npm run build)")
        self._node = node
        self._base = {"url": redis_url, "streamPrefix": stream_prefix, "keyPrefix": key_prefix}

    def start(self, request: dict[str, Any]) -> subprocess.Popen[bytes]:
        """Starts one request; give the process to :meth:`wait`."""
        return self.start_script(TS_STREAMS.name, request)

    def start_script(self, script: str, request: dict[str, Any]) -> subprocess.Popen[bytes]:
        """Starts a node script of this folder with ``request`` (plus the Redis and prefixes) on its stdin."""
        process = subprocess.Popen([self._node, str(TS_STREAMS.with_name(script))], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdin is not None
        process.stdin.write(json.dumps({**self._base, **request}).encode())
        process.stdin.close()
        return process

    def wait(self, process: subprocess.Popen[bytes], timeout: float = 60) -> Any:
        """The printed result of a started request; fails the test when it failed."""
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

    def run(self, request: dict[str, Any]) -> Any:
        """Runs one request to the end."""
        return self.wait(self.start(request))


@pytest.fixture
def ts_streams(redis_url: str, stream_prefix: str, prefix: str) -> TsStreams:
    return TsStreams(redis_url, stream_prefix, prefix)
