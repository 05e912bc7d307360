"""RedisStore: the key layout, chunking, Lua scripts and lifetimes of ``src/store/redis/redis-store.ts``.

An object written by either language is read, committed, released and deleted by the other.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence, TypeVar, Union, cast

import redis
from redis.cluster import RedisCluster

from ... import errors
from ...redis_client import connection_error, open_redis, pack_command
from ..keys import assert_valid_key
from ..lifetime import Readers, lifetime
from ..types import Buffer
from .bulk_reads import BulkSocket, BulkSockets, bulk_target, new_buffer
from .layout import ObjectKeys, chunk_count, meta_pattern, object_keys
from .lua import LuaScript, load_lua, queue_lua, settle_lua

T = TypeVar("T")
Client = Union[redis.Redis, RedisCluster]
"""A standalone client or a Redis Cluster client; both return bytes."""

DEFAULT_CHUNK_BYTES = 1024 * 1024
MAX_READER_NAME = 256
_KEY_PREFIX = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_SCRIPTS = {
    "put_end": load_lua("put-end-2.lua"),
    "commit": load_lua("commit-2.lua"),
    "release": load_lua("release-2.lua"),
    "delete": load_lua("delete-2.lua"),
}


@dataclass(frozen=True)
class StoreStats:
    """What a store holds right now."""

    objects: int
    bytes: int


class RedisStore:
    """A payload store in a standalone Redis or a Redis Cluster, sharing keys and scripts with the TypeScript ``RedisStore``.

    Objects above ``chunk_bytes`` are split into chunks; every key of an object shares one hash tag, so on
    a Cluster an object lives on one node and its scripts run there. Reads return the whole object or
    None, never part of one. Lifetimes use Redis expiry (PX on every key: the lease first, the TTL on
    commit) and an atomic Lua release. Scripts for many objects (``commit`` of a batch) are one call on a
    standalone server and one call per object, pipelined, on a Cluster (their keys are in other slots).

    Args:
        id: Store id that events name. Default ``redis``.
        url: Server to connect to when no client is given. Default ``redis://127.0.0.1:6379``.
        client: An existing ``redis.Redis`` or ``redis.cluster.RedisCluster`` (without ``decode_responses``);
            the caller keeps owning it. A Cluster is reached only this way.
        key_prefix: Prefix of every key, ``<key_prefix>:{<key>}:m|r|c:<i>``. Default ``ps``.
        chunk_bytes: Objects larger than this are split into chunks of this size. Default 1 MiB.
        pipeline_chunks: Chunk commands sent per round trip on put and get. Default 8.
        connect_timeout_ms: How long to wait for the server before raising ``ConnectionError``. Default 5000.
        remember_releases_ms: How long the store remembers which reader groups released an object after
            their releases deleted it (:meth:`released_by`; one small key per object). 0 forgets at once.
            Default 300000 (5 minutes), as in TypeScript.
    """

    def __init__(
        self,
        *,
        id: str = "redis",
        url: str = "redis://127.0.0.1:6379",
        client: Client | None = None,
        key_prefix: str = "ps",
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        pipeline_chunks: int = 8,
        connect_timeout_ms: int = 5_000,
        remember_releases_ms: int = 300_000,
    ) -> None:
        _check_options(id, key_prefix, chunk_bytes, pipeline_chunks, connect_timeout_ms)
        if isinstance(remember_releases_ms, bool) or not isinstance(remember_releases_ms, int) or remember_releases_ms < 0:
            raise errors.ConfigError("RedisStore remember_releases_ms must be an integer of 0 or more")
        self._remember_releases_ms = str(remember_releases_ms)
        self.id = id
        self._prefix = key_prefix
        self._chunk_bytes = chunk_bytes
        self._window = pipeline_chunks
        self._owned = client is None
        if client is None:
            client = open_redis(url, connect_timeout_ms)
        elif not isinstance(client, (redis.Redis, RedisCluster)) or client.get_encoder().decode_responses:
            raise errors.ConfigError("client must be a redis.Redis or RedisCluster that returns bytes (decode_responses=False)")
        self._client: Client = client
        self._cluster = isinstance(client, RedisCluster)
        if isinstance(client, RedisCluster):
            self._address = ",".join(sorted(f"{node.host}:{node.port}" for node in client.get_nodes()))  # type: ignore[no-untyped-call]
            target = None
        else:
            kwargs = client.connection_pool.connection_kwargs
            self._address = str(kwargs["path"]) if kwargs.get("path") else f"{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}"
            target = bulk_target(client, connect_timeout_ms / 1000)
        self._bulk = None if target is None else BulkSockets(target)
        self._closed = False

    def put(
        self,
        key: str,
        data: Buffer | Sequence[Buffer],
        *,
        readers: Readers | None = None,
        ttl_ms: float | None = None,
        lease_ms: float | None = None,
    ) -> None:
        """Writes an object (the parts one after another). Readers see all of it or nothing.

        ``readers`` (group names, or how many distinct groups) must release it before it goes;
        ``ttl_ms`` is the backstop after the commit; ``lease_ms`` makes it expire that soon unless committed.
        """
        assert_valid_key(key, self.id)
        life = lifetime(readers, ttl_ms, lease_ms)
        first_expiry = life.first_expiry_ms
        px = None if first_expiry is None else max(1, math.ceil(first_expiry))
        parts = [memoryview(part).cast("B") for part in _as_parts(data)]
        size = sum(len(part) for part in parts)
        keys = self._keys(key)
        chunks = chunk_count(size, self._chunk_bytes)
        put_end_args = [
            keys.chunk_prefix,
            size,
            chunks,
            self._chunk_bytes,
            "" if life.readers is None else json.dumps(life.readers, separators=(",", ":"), ensure_ascii=False),
            "" if life.ttl_ms is None else str(math.ceil(life.ttl_ms)),
            "" if px is None else px,
        ]

        def write(client: Client) -> None:
            for start in range(0, chunks, self._window):
                pipeline = client.pipeline(transaction=False)
                for index in range(start, min(chunks, start + self._window)):
                    value = _slice_parts(parts, index * self._chunk_bytes, min(size, (index + 1) * self._chunk_bytes))
                    pipeline.set(f"{keys.chunk_prefix}{index}", value, px=px)
                last = start + self._window >= chunks
                if last:
                    queue_lua(pipeline, _SCRIPTS["put_end"], [keys.meta, keys.released], put_end_args)
                replies = pipeline.execute(raise_on_error=False)
                for reply in replies[: len(replies) - 1 if last else len(replies)]:
                    if isinstance(reply, Exception):
                        raise reply
                if last:
                    settle_lua(client, replies[-1], _SCRIPTS["put_end"], [keys.meta, keys.released], put_end_args)

        self._run(write)

    def get(self, key: str, *, expected_size: int | None = None) -> Buffer | None:
        """Reads an object; None when it is missing, expired or not whole.

        With an ``expected_size`` (a ref carries it) below one chunk, the object is read with a single GET on
        redis-py and comes back as ``bytes``. Any other read goes on a socket of the store's own and comes back as
        a read-only ``memoryview`` of the one buffer its chunks were read into (with TLS, as ``bytes`` joined from
        redis-py's replies; chunks changed behind the store's back, as ``bytes`` as stored): hiredis copies a
        value three times on its way in, which made reads of 10 MB the consumer's largest cost, while one small
        value read by hiredis costs no more than a read into a buffer. Call ``bytes(...)`` for a ``bytes`` copy.
        """
        assert_valid_key(key, self.id)
        keys = self._keys(key)
        bulk = self._bulk
        if bulk is not None and (expected_size is None or expected_size >= self._chunk_bytes):
            return cast("Buffer | None", self._run(lambda _: bulk.run(lambda sock: self._read_bulk(sock, keys))))

        def read(client: Client) -> bytes | None:
            if expected_size is not None and expected_size < self._chunk_bytes:
                only = cast("bytes | None", client.get(f"{keys.chunk_prefix}0"))
                if only is None or len(only) == expected_size:
                    return only
            pipeline = client.pipeline(transaction=False)
            pipeline.hmget(keys.meta, "size", "chunks", "chunkBytes")
            pipeline.get(f"{keys.chunk_prefix}0")
            meta, first = cast("tuple[list[bytes | None], bytes | None]", pipeline.execute())
            layout = _layout(meta)
            if layout is None or first is None:
                return None
            size, chunks, _ = layout
            if chunks == 1 and len(first) == size:
                return first
            rest: list[bytes] = [first]
            for start in range(1, chunks, self._window):
                pipeline = client.pipeline(transaction=False)
                for index in range(start, min(chunks, start + self._window)):
                    pipeline.get(f"{keys.chunk_prefix}{index}")
                batch = pipeline.execute()
                if any(chunk is None for chunk in batch):
                    return None
                rest.extend(batch)
            return b"".join(rest)

        return self._run(read)

    def _read_bulk(self, sock: BulkSocket, keys: ObjectKeys) -> Buffer | None:
        """:meth:`get` on a payload socket: every chunk lands in place in one buffer. Chunks whose length is not
        what the meta says (bytes changed behind the store's back) are returned as stored, concatenated."""
        chunk_key = keys.chunk_prefix.encode("utf-8")
        sock.send(pack_command(b"HMGET", keys.meta.encode("utf-8"), b"size", b"chunks", b"chunkBytes") + pack_command(b"GET", chunk_key + b"0"))
        layout = _layout([None if field is None else bytes(field) for field in sock.array()])
        if layout is None:
            sock.bulk()
            return None
        size, chunks, chunk_bytes = layout
        # A meta hash that does not describe whole chunks (edited behind the store's back) gets no buffer of
        # its size: every chunk is read as stored.
        regular = chunks >= 1 and chunk_bytes >= 1 and (size == 0 and chunks == 1 or (chunks - 1) * chunk_bytes < size <= chunks * chunk_bytes)
        buffer = new_buffer(size if regular else 0)

        def slot(index: int) -> memoryview | None:
            return buffer[index * chunk_bytes : min(size, (index + 1) * chunk_bytes)] if regular else None

        place = slot(0)
        first = sock.bulk(place)
        if first is None:
            return None
        parts: list[Buffer] = [first]
        irregular = place is None or first is not place
        for start in range(1, chunks, self._window):
            indexes = range(start, min(chunks, start + self._window))
            sock.send(b"".join(pack_command(b"GET", chunk_key + str(index).encode()) for index in indexes))
            missing = False
            for index in indexes:
                place = slot(index)
                chunk = sock.bulk(place)
                if chunk is None:
                    missing = True
                else:
                    irregular = irregular or place is None or chunk is not place
                    parts.append(chunk)
            if missing:
                return None
        if irregular:
            return b"".join(parts)
        return buffer.toreadonly()

    def exists(self, key: str) -> bool:
        """True when the object's meta hash and first chunk are there."""
        assert_valid_key(key, self.id)
        keys = self._keys(key)
        return self._run(lambda client: int(client.exists(keys.meta, f"{keys.chunk_prefix}0")) == 2)

    def delete(self, key: str) -> bool:
        """Deletes an object; True when it existed."""
        assert_valid_key(key, self.id)
        return bool(self._scripts("delete", [(key, [])])[0] == 1)

    def commit(self, keys: Iterable[str]) -> list[str]:
        """Ends the provisional lease of these objects (each gets its full TTL from now, or no expiry).

        Returns the keys it did not find (their lease ran out, or they were deleted), to be written again.
        """
        wanted = [assert_valid_key(key, self.id) for key in keys]
        found = self._scripts("commit", [(key, []) for key in wanted])
        return [key for key, result in zip(wanted, found) if result != 1]

    def release(self, key: str, reader: str) -> bool:
        """Records that ``reader`` (a consumer group) is done with the object; True when this deleted it."""
        assert_valid_key(key, self.id)
        if not isinstance(reader, str) or not 0 < len(reader) <= MAX_READER_NAME:
            raise errors.ConfigError(f"reader name must be 1-{MAX_READER_NAME} characters")
        return bool(self._scripts("release", [(key, [reader, self._remember_releases_ms])])[0] == 1)

    def released_by(self, key: str) -> list[str]:
        """The reader groups whose releases deleted the object, for ``remember_releases_ms`` after; empty while
        it exists, or when it expired, was deleted or is forgotten."""
        assert_valid_key(key, self.id)
        keys = self._keys(key)

        def read(client: Client) -> list[str]:
            pipeline = client.pipeline(transaction=False)
            pipeline.exists(keys.meta)
            pipeline.smembers(keys.released)
            exists, readers = pipeline.execute()
            return [] if exists else sorted(reader.decode("utf-8") for reader in readers)

        return self._run(read)

    def stats(self) -> StoreStats:
        """Objects and bytes under the key prefix, by SCAN over meta hashes (of every primary on a Cluster)."""

        def scan(client: Client) -> StoreStats:
            objects = 0
            total = 0
            for meta in client.scan_iter(match=meta_pattern(self._prefix), count=1000):
                size = client.hget(meta, "size")
                if size is not None:
                    objects += 1
                    total += int(size)
            return StoreStats(objects=objects, bytes=total)

        return self._run(scan)

    def close(self) -> None:
        """Closes the connection pool this store opened (a client given to it stays open). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._bulk is not None:
            self._bulk.close()
        if self._owned:
            self._client.close()

    def __enter__(self) -> RedisStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _keys(self, key: str) -> ObjectKeys:
        return object_keys(self._prefix, key)

    def _scripts(self, name: str, calls: Sequence[tuple[str, list[str]]]) -> list[Any]:
        """Runs a per-object script once for every (key, extra args), results in order: all objects in one
        call on a standalone server, one call per object (pipelined) on a Cluster."""
        script: LuaScript = _SCRIPTS[name]
        batches: list[tuple[list[str], list[str]]] = []
        for key, extra in calls:
            keys = self._keys(key)
            if self._cluster or not batches:
                batches.append(([], []))
            batches[-1][0].extend((keys.meta, keys.released))
            batches[-1][1].extend((keys.chunk_prefix, *extra))

        def run(client: Client) -> list[Any]:
            pipeline = client.pipeline(transaction=False)
            for script_keys, args in batches:
                queue_lua(pipeline, script, script_keys, args)
            replies = pipeline.execute(raise_on_error=False)
            return [result for (script_keys, args), reply in zip(batches, replies) for result in settle_lua(client, reply, script, script_keys, args)]

        return self._run(run) if calls else []

    def _run(self, operation: Callable[[Client], T]) -> T:
        if self._closed:
            raise errors.ClosedError(f"store {self.id} is closed", context={"storeId": self.id})
        try:
            return operation(self._client)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ClusterDownError) as cause:
            raise connection_error(self._address, cause) from cause


def _check_options(store_id: str, key_prefix: str, chunk_bytes: int, pipeline_chunks: int, connect_timeout_ms: int) -> None:
    if not isinstance(store_id, str) or not 0 < len(store_id) <= 256:
        raise errors.ConfigError("RedisStore id must be a string of 1 to 256 characters")
    if not isinstance(key_prefix, str) or _KEY_PREFIX.fullmatch(key_prefix) is None:
        raise errors.ConfigError("RedisStore key_prefix must be 1-64 characters of [A-Za-z0-9._:-]")
    for name, value, low, high in (
        ("chunk_bytes", chunk_bytes, 1024, 256 * 1024 * 1024),
        ("pipeline_chunks", pipeline_chunks, 1, 1024),
        ("connect_timeout_ms", connect_timeout_ms, 1, None),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            bound = f"{low} to {high}" if high is not None else f"at least {low}"
            raise errors.ConfigError(f"RedisStore {name} must be an integer, {bound}")


def _as_parts(data: Buffer | Sequence[Buffer]) -> Sequence[Buffer]:
    return [data] if isinstance(data, (bytes, bytearray, memoryview)) else data


def _slice_parts(parts: Sequence[memoryview], start: int, end: int) -> Buffer:
    """Bytes [start, end) of the parts: a view when one part holds them, else one copy."""
    pieces: list[memoryview] = []
    offset = 0
    for part in parts:
        low = max(start, offset)
        high = min(end, offset + len(part))
        if low < high:
            pieces.append(part[low - offset : high - offset])
        offset += len(part)
        if offset >= end:
            break
    if len(pieces) == 1:
        return pieces[0]
    return b"".join(pieces)


def _layout(meta: Sequence[bytes | None]) -> tuple[int, int, int] | None:
    """size, chunks and chunkBytes from the meta hash, or None when it is missing or not whole."""
    if any(field is None for field in meta):
        return None
    try:
        size, chunks, chunk_bytes = (int(field) for field in meta if field is not None)
    except ValueError:
        return None
    return size, chunks, chunk_bytes
