"""FileStore: the directory layout, atomic renames, release markers and lifetimes of ``src/store/file-store.ts``.

An object written by either language is read, committed, released and deleted by the other, and either
language's sweep removes what the other left expired. The layout under the store directory::

    <key>/data                 the object's bytes (the parts one after another)
    <key>/meta.json            {"readers": [...] | n, "ttlMs": ms, "expiresAt": epoch ms, "size": bytes}
    <key>/released/<hex>       one empty marker per reader that released it (hex of the UTF-8 name)
    .tmp/<key>.<12 hex>/       an object being written, renamed to <key>/ when whole
    .trash/<key>.<12 hex>/     an object being deleted, renamed here first and then removed

Readers see whole objects only: a put writes a temp directory and renames it into place, a commit writes a
temp meta file beside ``meta.json`` and renames it over that, and a delete renames the object away before
removing it. Releases take no lock: each reader creates its own marker file, then counts the markers.
"""

from __future__ import annotations

import errno
import json
import math
import os
import secrets
import shutil
import time
from typing import Any, Iterable, Sequence, Union

from .. import errors
from ..wire.msgpack_js import js_number_string
from .keys import assert_valid_key
from .lifetime import Readers, lifetime
from .redis.redis_store import StoreStats

Buffer = Union[bytes, bytearray, memoryview]
Meta = dict[str, Any]

TEMP = ".tmp"
TRASH = ".trash"
MAX_READER_NAME = 100
"""Longest reader name, in UTF-16 code units as TypeScript counts ``string.length``."""
_MISSING = (errno.ENOENT, errno.ENOTDIR)
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class FileStore:
    """A payload store in one directory of a local or shared filesystem, sharing its layout with the TypeScript ``FileStore``.

    Use tmpfs (``/dev/shm``) for one node, or a parallel filesystem for several: all writes are renames into
    place and releases are lock-free marker files, so processes on several nodes may share one directory.
    There is no timer: an expired object goes when it is read, on :meth:`sweep` and :meth:`stats`, or when a
    TypeScript ``FileStore`` on the same directory sweeps it (every 30 s by default).

    Args:
        dir: Directory that holds the objects.
        id: Store id that events name. Default ``file``.
        create: Create the directory (with its ``.tmp`` and ``.trash``) when it is missing. False (read-only
            tools): nothing is created, and a missing directory raises ``ConfigError`` "no such store directory".
        stale_temp_s: Leftover temp directories (writers that died mid-put) older than this are removed by
            :meth:`sweep`. Default 600.
    """

    def __init__(self, dir: str | os.PathLike[str], *, id: str = "file", create: bool = True, stale_temp_s: float = 600) -> None:
        _check_options(dir, id, create, stale_temp_s)
        self.id = id
        self.dir = os.fspath(dir)
        self._stale_temp_ms = stale_temp_s * 1000
        self._closed = False
        if create:
            os.makedirs(os.path.join(self.dir, TEMP), exist_ok=True)
            os.makedirs(os.path.join(self.dir, TRASH), exist_ok=True)
        elif not os.path.isdir(self.dir):
            raise errors.ConfigError(
                f"file store {self.id}: no such store directory {self.dir}", context={"storeId": self.id, "address": self.dir}
            )

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
        An object already under ``key`` is replaced.
        """
        self._open()
        assert_valid_key(key, self.id)
        self._assert_present()
        life = lifetime(readers, ttl_ms, lease_ms)
        parts = [memoryview(part).cast("B") for part in _as_parts(data)]
        meta: Meta = {}
        if life.readers is not None:
            meta["readers"] = life.readers
        if life.ttl_ms is not None:
            meta["ttlMs"] = life.ttl_ms
        first_expiry = life.first_expiry_ms
        if first_expiry is not None:
            meta["expiresAt"] = _now_ms() + first_expiry
        meta["size"] = sum(len(part) for part in parts)
        temp = os.path.join(self.dir, TEMP, f"{key}.{secrets.token_hex(6)}")
        os.makedirs(os.path.join(temp, "released"))
        try:
            _write(os.path.join(temp, "data"), parts)
            _write(os.path.join(temp, "meta.json"), [_to_json(meta).encode()])
            self._move_into_place(temp, key)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise

    def get(self, key: str, *, expected_size: int | None = None) -> bytes | None:
        """Reads an object; None when it is missing or expired (an expired one is deleted).

        ``expected_size`` is accepted for the :class:`Store` protocol; a file store has no use for it.
        Raises ``ConnectionError`` (retriable) when the store directory itself is gone (an unmounted filesystem).
        """
        self._open()
        assert_valid_key(key, self.id)
        meta = self._meta(key)
        if meta is None:
            self._assert_present()
            return None
        if _is_expired(meta):
            self._remove(key)
            return None
        try:
            with open(os.path.join(self.dir, key, "data"), "rb") as file:
                return file.read()
        except OSError as error:
            if error.errno in _MISSING:
                return None
            raise

    def exists(self, key: str) -> bool:
        """True when the object is there and not expired."""
        self._open()
        assert_valid_key(key, self.id)
        meta = self._meta(key)
        return meta is not None and not _is_expired(meta)

    def delete(self, key: str) -> bool:
        """Deletes an object; True when it existed."""
        self._open()
        assert_valid_key(key, self.id)
        return self._remove(key)

    def commit(self, keys: Iterable[str]) -> list[str]:
        """Ends the provisional lease of these objects (each gets its full TTL from now, or no expiry).

        Returns the keys it did not find (their lease ran out, or they were deleted), to be written again.
        """
        self._open()
        wanted = [assert_valid_key(key, self.id) for key in keys]
        return [key for key in wanted if not self._commit(key)]

    def release(self, key: str, reader: str) -> bool:
        """Records that ``reader`` (a consumer group) is done with the object; True when this deleted it.

        Idempotent per reader. A reader the lifetime does not name (or an object without readers) is ignored.
        """
        self._open()
        assert_valid_key(key, self.id)
        if not isinstance(reader, str) or not 0 < _utf16_length(reader) <= MAX_READER_NAME:
            raise errors.ConfigError(f"reader name must be 1-{MAX_READER_NAME} characters")
        meta = self._meta(key)
        if meta is None or not _counts_as_reader(meta, reader):
            return False
        released_dir = os.path.join(self.dir, key, "released")
        try:
            os.close(os.open(os.path.join(released_dir, _utf8(reader).hex()), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            pass
        except OSError as error:
            if error.errno in _MISSING:
                return False
            raise
        try:
            markers = os.listdir(released_dir)
        except OSError as error:
            if error.errno in _MISSING:
                return False
            raise
        if not _all_released(meta, {_from_hex(marker) for marker in markers}):
            return False
        return self._remove(key)

    def sweep(self) -> int:
        """Deletes every expired object now, and leftover temp and trash directories. Returns how many objects went."""
        if self._closed:
            return 0
        removed = 0
        now = _now_ms()
        for name in os.listdir(self.dir):
            if name.startswith("."):
                continue
            meta = self._meta(name)
            if meta is not None and _is_expired(meta, now) and self._remove(name):
                removed += 1
        self._clear_stale(os.path.join(self.dir, TEMP), now - self._stale_temp_ms)
        self._clear_stale(os.path.join(self.dir, TRASH), now)
        return removed

    def stats(self) -> StoreStats:
        """Objects and bytes in the directory, after a sweep (from each object's ``meta.json``)."""
        self._open()
        self.sweep()
        objects = 0
        total = 0
        for name in os.listdir(self.dir):
            if name.startswith("."):
                continue
            meta = self._meta(name)
            if meta is None:
                continue
            objects += 1
            size = meta.get("size")
            total += int(size) if isinstance(size, (int, float)) and not isinstance(size, bool) else 0
        return StoreStats(objects=objects, bytes=total)

    def close(self) -> None:
        """Marks the store closed (every later call but close raises ``ClosedError``). Idempotent."""
        self._closed = True

    def __enter__(self) -> FileStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _open(self) -> None:
        if self._closed:
            raise errors.ClosedError(f"store {self.id} is closed", context={"storeId": self.id})

    def _assert_present(self) -> None:
        """A missing object in a store whose directory is gone is an outage (retriable), not a missing payload."""
        if not os.path.exists(os.path.join(self.dir, TEMP)):
            raise errors.ConnectionError(
                f"file store {self.id}: directory {self.dir} is not available", context={"storeId": self.id, "address": self.dir}
            )

    def _commit(self, key: str) -> bool:
        meta = self._meta(key)
        if meta is None or _is_expired(meta):
            return False
        next_meta = dict(meta)
        ttl_ms = meta.get("ttlMs")
        if isinstance(ttl_ms, (int, float)) and not isinstance(ttl_ms, bool):
            next_meta["expiresAt"] = _now_ms() + ttl_ms
        else:
            next_meta.pop("expiresAt", None)
        temp = os.path.join(self.dir, key, f"meta.{secrets.token_hex(4)}")
        try:
            _write(temp, [_to_json(next_meta).encode()])
            os.rename(temp, os.path.join(self.dir, key, "meta.json"))
        except OSError as error:
            if error.errno in _MISSING:
                return False
            raise
        return True

    def _move_into_place(self, temp: str, key: str) -> None:
        target = os.path.join(self.dir, key)
        try:
            os.rename(temp, target)
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            self._remove(key)
            os.rename(temp, target)

    def _meta(self, key: str) -> Meta | None:
        """The object's ``meta.json``; None when it is missing or not whole."""
        try:
            with open(os.path.join(self.dir, key, "meta.json"), encoding="utf-8") as file:
                meta = json.load(file)
        except OSError as error:
            if error.errno in _MISSING:
                return None
            raise
        except ValueError:  # not JSON, or not UTF-8
            return None
        return meta if isinstance(meta, dict) else None

    def _remove(self, key: str) -> bool:
        trash = os.path.join(self.dir, TRASH, f"{key}.{secrets.token_hex(6)}")
        try:
            os.rename(os.path.join(self.dir, key), trash)
        except OSError as error:
            if error.errno in _MISSING:
                return False
            raise
        shutil.rmtree(trash, ignore_errors=True)
        return True

    def _clear_stale(self, directory: str, older_than_ms: float) -> None:
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for name in names:
            path = os.path.join(directory, name)
            try:
                modified = os.stat(path).st_mtime_ns / 1_000_000
            except OSError:
                continue
            if modified < older_than_ms:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    try:
                        os.remove(path)
                    except OSError:
                        pass


def _check_options(directory: object, store_id: object, create: object, stale_temp_s: object) -> None:
    if not isinstance(directory, (str, os.PathLike)) or not os.fspath(directory):
        raise errors.ConfigError("FileStore dir must be a non-empty path")
    if not isinstance(store_id, str) or not 0 < len(store_id) <= 256:
        raise errors.ConfigError("FileStore id must be a string of 1 to 256 characters")
    if not isinstance(create, bool):
        raise errors.ConfigError("FileStore create must be a boolean")
    if isinstance(stale_temp_s, bool) or not isinstance(stale_temp_s, (int, float)) or not math.isfinite(stale_temp_s) or stale_temp_s <= 0:
        raise errors.ConfigError("FileStore stale_temp_s must be a positive number of seconds")


def _now_ms() -> int:
    """Milliseconds since the epoch, as JavaScript's ``Date.now()``."""
    return time.time_ns() // 1_000_000


def _is_expired(meta: Meta, now: float | None = None) -> bool:
    expires_at = meta.get("expiresAt")
    if not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool):
        return False
    return expires_at <= (_now_ms() if now is None else now)


def _counts_as_reader(meta: Meta, reader: str) -> bool:
    readers = meta.get("readers")
    if isinstance(readers, bool):
        return False
    return isinstance(readers, (int, float)) or (isinstance(readers, list) and reader in readers)


def _all_released(meta: Meta, released: set[str]) -> bool:
    readers = meta.get("readers")
    if isinstance(readers, bool):
        return False
    if isinstance(readers, (int, float)):
        return len(released) >= readers
    if isinstance(readers, list):
        return all(reader in released for reader in readers)
    return False


def _utf16_length(text: str) -> int:
    """``text.length`` in JavaScript: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf8(text: str) -> bytes:
    """UTF-8 as Node's ``Buffer.from(text)``: a lone surrogate becomes U+FFFD."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode()


def _from_hex(name: str) -> str:
    """A marker name back to the reader, as Node's ``Buffer.from(name, 'hex').toString()``: hex pairs up to the first bad one."""
    decoded = bytearray()
    for index in range(0, len(name) - 1, 2):
        pair = name[index : index + 2]
        if pair[0] not in _HEX_DIGITS or pair[1] not in _HEX_DIGITS:
            break
        decoded.append(int(pair, 16))
    return decoded.decode("utf-8", "replace")


def _to_json(value: Any) -> str:
    """``JSON.stringify(value)``: no spaces, numbers as JavaScript writes them (``60000``, not ``60000.0``)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return js_number_string(value) if math.isfinite(value) else "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_to_json(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(name), ensure_ascii=False)}:{_to_json(item)}" for name, item in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to meta.json")


def _write(path: str, parts: Sequence[Buffer]) -> None:
    with open(path, "wb") as file:
        for part in parts:
            file.write(part)


def _as_parts(data: Buffer | Sequence[Buffer]) -> Sequence[Buffer]:
    return [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
