"""FileStore: layout, atomic writes, release markers and lifetimes, and objects shared with the TypeScript FileStore."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

from helpers import REPO, b64
from proxystream import FileStore as TopLevelFileStore
from proxystream import errors
from proxystream.proxy import Ref, StoreRegistry
from proxystream.store import FileStore, Store
from proxystream.wire import RefPayload, checksum, encode_payload

TS_FILE_STORE = Path(__file__).with_name("ts_file_store.mjs")
DIST_FILE_STORE = REPO / "dist" / "src" / "store" / "file-store.js"

TsFileStore = Callable[..., list[Any]]


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(store_dir: Path) -> Iterator[FileStore]:
    with FileStore(store_dir) as made:
        yield made


def _ts_request(store_dir: Path, ops: list[dict[str, Any]], options: dict[str, Any]) -> bytes:
    return json.dumps({"dir": str(store_dir), **options, "ops": ops}).encode()


def _node() -> str:
    node = shutil.which("node")
    if node is None or not DIST_FILE_STORE.is_file():
        pytest.fail(f"the interop tests need node and {DIST_FILE_STORE} (npm run build)")
    return node


@pytest.fixture
def ts_file_store(store_dir: Path) -> TsFileStore:
    """Runs operations on the TypeScript FileStore (dist/) on the test's directory; returns their results.

    Keyword arguments are FileStore options (``id``, ``create``, ``io``, ``staleTempMs``) or ``dir``.
    """
    node = _node()

    def run(ops: list[dict[str, Any]], **options: Any) -> list[Any]:
        directory = Path(options.pop("dir", store_dir))
        done = subprocess.run([node, str(TS_FILE_STORE)], input=_ts_request(directory, ops, options), capture_output=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr.decode()
        result: list[Any] = json.loads(done.stdout)
        return result

    return run


def _listing(root: Path) -> list[str]:
    """Every path under ``root``, relative, directories with a trailing slash."""
    return sorted(f"{path.relative_to(root)}{'/' if path.is_dir() else ''}" for path in root.rglob("*"))


def _meta_text(root: Path, key: str) -> str:
    return (root / key / "meta.json").read_text()


def _expires_at(root: Path, key: str) -> float | None:
    value = json.loads(_meta_text(root, key)).get("expiresAt")
    return None if value is None else float(value)


SHORT_MS = 300
"""A lease or TTL that a loaded machine does not outrun between a put and the next call."""


def _sleep_past(root: Path, *keys: str) -> None:
    """Sleeps until the objects' ``expiresAt`` (read from their meta.json) has passed."""
    expiries = [_expires_at(root, key) for key in keys]
    latest = max(expiry for expiry in expiries if expiry is not None)
    time.sleep(max(0.0, (latest + 20) / 1000 - time.time()))


# --- Python alone ---


def test_round_trips_empty_small_multi_part_and_large_objects_in_the_typescript_layout(store: FileStore, store_dir: Path) -> None:
    large = os.urandom(3 * 1024 * 1024 + 17)
    store.put("empty", b"")
    store.put("small", b"hello")
    store.put("parts", [b"ab", memoryview(b"cd"), bytearray(b"ef")])
    store.put("large", [large[:100], large[100:3000], large[3000:]])
    assert store.get("empty") == b""
    assert store.get("small") == b"hello"
    assert store.get("small", expected_size=5) == b"hello"
    assert store.get("parts") == b"abcdef"
    assert store.get("large") == large
    assert store.get("missing") is None
    assert store.exists("small") and not store.exists("missing")
    assert store.stats().objects == 4 and store.stats().bytes == 5 + 6 + len(large)
    assert _listing(store_dir) == sorted(
        [".tmp/", ".trash/"] + [f"{key}{part}" for key in ("empty", "small", "parts", "large") for part in ("/", "/data", "/meta.json", "/released/")]
    )
    assert _meta_text(store_dir, "small") == '{"size":5}'
    assert (store_dir / "parts" / "data").read_bytes() == b"abcdef"
    for key in ("empty", "small", "parts", "large"):
        assert store.delete(key)
    assert not store.delete("small")
    assert _listing(store_dir) == [".tmp/", ".trash/"]


def test_a_put_under_an_existing_key_replaces_the_object_whole(store: FileStore, store_dir: Path) -> None:
    store.put("k", os.urandom(4096), readers=["a"])
    store.release("k", "b")  # not a reader of this lifetime: no marker
    store.put("k", b"short")
    assert store.get("k") == b"short"
    assert _meta_text(store_dir, "k") == '{"size":5}'
    assert _listing(store_dir / "k") == ["data", "meta.json", "released/"]
    assert _listing(store_dir / ".tmp") == [] and _listing(store_dir / ".trash") == []


def test_writes_meta_json_as_javascript_writes_it(store: FileStore, store_dir: Path) -> None:
    before = time.time() * 1000
    store.put("k", b"12345", readers=["a", "b", "a"], ttl_ms=60_000.0, lease_ms=30_000)
    text = _meta_text(store_dir, "k")
    assert re.fullmatch(r'\{"readers":\["a","b"\],"ttlMs":60000,"expiresAt":\d+,"size":5\}', text), text
    expires_at = _expires_at(store_dir, "k")
    assert expires_at is not None and before + 30_000 - 1 <= expires_at <= time.time() * 1000 + 30_000
    store.put("n", b"", readers=2, ttl_ms=1500.5)
    assert re.fullmatch(r'\{"readers":2,"ttlMs":1500\.5,"expiresAt":\d+\.5,"size":0\}', _meta_text(store_dir, "n"))


def test_deletes_after_the_last_named_reader_released(store: FileStore, store_dir: Path) -> None:
    store.put("k", b"x", readers=["a", "b"])
    assert not store.release("k", "c")  # not named: ignored, no marker
    assert not store.release("k", "a")
    assert not store.release("k", "a")  # idempotent
    assert sorted(os.listdir(store_dir / "k" / "released")) == [b"a".hex()]
    assert store.get("k") == b"x"
    assert store.release("k", "b")
    assert store.get("k") is None and not store.exists("k")
    assert not store.release("k", "b")
    assert _listing(store_dir) == [".tmp/", ".trash/"]


def test_deletes_after_a_count_of_distinct_readers_and_never_without_readers(store: FileStore) -> None:
    store.put("counted", b"x", readers=2)
    assert not store.release("counted", "g1")
    assert not store.release("counted", "g1")
    assert store.release("counted", "g2")
    assert store.get("counted") is None
    store.put("kept", b"y")
    assert not store.release("kept", "g1")
    assert store.get("kept") == b"y"


def test_an_object_goes_when_its_ttl_runs_out(store: FileStore, store_dir: Path) -> None:
    store.put("read", b"x", ttl_ms=SHORT_MS)
    store.put("swept", b"y", ttl_ms=SHORT_MS)
    store.put("kept", b"z", ttl_ms=60_000)
    assert store.exists("read") and store.get("read") == b"x"
    _sleep_past(store_dir, "read", "swept")
    assert not store.exists("read") and not store.exists("swept")
    assert store.get("read") is None
    assert not (store_dir / "read").exists()  # an expired read deletes the object
    assert store.sweep() == 1
    assert not (store_dir / "swept").exists()
    assert store.get("kept") == b"z"
    assert store.commit(["read"]) == ["read"]


def test_a_provisional_lease_expires_unless_committed(store: FileStore, store_dir: Path) -> None:
    store.put("uncommitted", b"a", lease_ms=SHORT_MS, ttl_ms=60_000)
    store.put("committed", b"b", lease_ms=SHORT_MS)
    store.put("committed-ttl", b"c", lease_ms=SHORT_MS, ttl_ms=60_000, readers=["g"])
    before = time.time() * 1000
    assert store.commit(["committed", "committed-ttl", "missing"]) == ["missing"]
    assert _meta_text(store_dir, "committed") == '{"size":1}'
    expires_at = _expires_at(store_dir, "committed-ttl")
    assert expires_at is not None and before + 60_000 - 1 <= expires_at <= time.time() * 1000 + 60_000
    assert re.fullmatch(r'\{"readers":\["g"\],"ttlMs":60000,"expiresAt":\d+,"size":1\}', _meta_text(store_dir, "committed-ttl"))
    assert sorted(os.listdir(store_dir / "committed")) == ["data", "meta.json", "released"]  # no temp meta left
    _sleep_past(store_dir, "uncommitted")
    assert store.get("uncommitted") is None
    assert store.commit(["uncommitted"]) == ["uncommitted"]  # to be written again
    assert store.get("committed") == b"b"
    assert store.get("committed-ttl") == b"c"


def test_missing_and_half_written_objects_read_as_missing(store: FileStore, store_dir: Path) -> None:
    assert store.get("never") is None
    assert not store.delete("never")
    assert not store.release("never", "g")
    (store_dir / "broken").mkdir()
    (store_dir / "broken" / "meta.json").write_text('{"si')
    assert store.get("broken") is None and not store.exists("broken")
    store.put("no-data", b"x")
    (store_dir / "no-data" / "data").unlink()
    assert store.get("no-data") is None
    (store_dir / "stray-file").write_bytes(b"not an object")
    assert store.get("stray-file") is None
    assert store.stats().objects == 1


@pytest.mark.parametrize("key", ["", ".hidden", "../escape", "a/b", "a b", "x" * 256, "ключ", 5])
def test_bad_keys_raise_invalid_key_error(store: FileStore, key: Any) -> None:
    calls: list[Callable[[], object]] = [
        lambda: store.put(key, b"x"),
        lambda: store.get(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.commit([key]),
        lambda: store.release(key, "g"),
    ]
    for call in calls:
        with pytest.raises(errors.InvalidKeyError) as raised:
            call()
        assert raised.value.code == errors.ErrorCodes.INVALID_KEY and raised.value.context["storeId"] == "file"


def test_bad_options_readers_and_lifetimes_raise_config_error(store: FileStore, tmp_path: Path) -> None:
    store.put("k", b"x", readers=["a"])
    for reader in ("", "r" * 101, "😀" * 51):
        with pytest.raises(errors.ConfigError):
            store.release("k", reader)
    assert not store.release("k", "😀" * 50)
    lifetimes: list[dict[str, Any]] = [{"readers": 0}, {"readers": []}, {"ttl_ms": 0}, {"lease_ms": -1}, {"ttl_ms": float("inf")}]
    for lifetime in lifetimes:
        with pytest.raises(errors.ConfigError):
            store.put("bad", b"x", **lifetime)
    assert not (tmp_path / "store" / "bad").exists()
    for options in ({"id": ""}, {"id": "x" * 257}, {"stale_temp_s": 0}, {"create": "yes"}):
        with pytest.raises(errors.ConfigError):
            FileStore(tmp_path / "other", **options)
    with pytest.raises(errors.ConfigError):
        FileStore("")


def test_create_false_on_a_missing_directory_raises_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(errors.ConfigError) as raised:
        FileStore(missing, create=False, id="ro")
    assert raised.value.code == errors.ErrorCodes.CONFIG
    assert "no such store directory" in raised.value.message
    assert raised.value.context == {"storeId": "ro", "address": str(missing)}
    assert not missing.exists()


def test_create_false_reads_an_existing_store_without_writing_to_it(store: FileStore, store_dir: Path) -> None:
    store.put("k", b"x", readers=1)
    reader = FileStore(store_dir, create=False)
    assert reader.get("k") == b"x" and reader.stats().objects == 1
    assert reader.release("k", "g")
    assert store.get("k") is None


def test_a_store_whose_directory_is_gone_raises_a_retriable_connection_error(store: FileStore, store_dir: Path) -> None:
    store.put("k", b"x")
    shutil.rmtree(store_dir)
    with pytest.raises(errors.ConnectionError) as raised:
        store.get("k")
    assert raised.value.retriable and raised.value.code == errors.ErrorCodes.CONNECTION
    assert raised.value.context == {"storeId": "file", "address": str(store_dir)}
    with pytest.raises(errors.ConnectionError):
        store.put("k", b"x")


def test_a_closed_store_raises_closed_error(store_dir: Path) -> None:
    with FileStore(store_dir, id="closing") as store:
        store.put("k", b"x")
    store.close()  # idempotent
    for call in (lambda: store.get("k"), lambda: store.put("k", b"x"), lambda: store.release("k", "g"), lambda: store.commit(["k"]), store.stats):
        with pytest.raises(errors.ClosedError) as raised:
            call()
        assert raised.value.code == errors.ErrorCodes.CLOSED and raised.value.context == {"storeId": "closing"}
    assert store.sweep() == 0
    assert TopLevelFileStore is FileStore


def test_sweep_clears_stale_temp_and_trash_directories(store_dir: Path) -> None:
    store = FileStore(store_dir, stale_temp_s=60)
    old = time.time() - 120
    for name in (".tmp/old.0123456789ab", ".tmp/new.0123456789ab", ".trash/gone.0123456789ab"):
        (store_dir / name / "released").mkdir(parents=True)
        (store_dir / name / "data").write_bytes(b"x")
    os.utime(store_dir / ".tmp" / "old.0123456789ab", (old, old))
    os.utime(store_dir / ".trash" / "gone.0123456789ab", (old, old))
    assert store.sweep() == 0
    assert _listing(store_dir / ".tmp") == ["new.0123456789ab/", "new.0123456789ab/data", "new.0123456789ab/released/"]
    assert _listing(store_dir / ".trash") == []


def test_concurrent_releases_delete_the_object_exactly_once(store: FileStore, store_dir: Path) -> None:
    readers = [f"group-{i}" for i in range(16)]
    for round_ in range(5):
        store.put("named", b"x" * 1000, readers=readers)
        store.put("counted", b"y", readers=4)
        others = [FileStore(store_dir) for _ in range(4)]  # several stores on one directory, as several processes
        barrier = threading.Barrier(len(readers) + 8)

        def release(index: int, barrier: threading.Barrier = barrier, others: list[FileStore] = others) -> tuple[bool, bool]:
            barrier.wait()
            mine = others[index % len(others)]
            named = mine.release("named", readers[index]) if index < len(readers) else False
            counted = mine.release("counted", f"c{index}") if index >= len(readers) else False
            return named, counted

        with ThreadPoolExecutor(max_workers=len(readers) + 8) as pool:
            results = list(pool.map(release, range(len(readers) + 8)))
        assert sum(named for named, _ in results) == 1, round_
        assert sum(counted for _, counted in results) == 1, round_
        assert store.get("named") is None and store.get("counted") is None
        assert _listing(store_dir) == [".tmp/", ".trash/"]


def test_a_ref_resolves_a_payload_held_in_a_file_store(store: FileStore) -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    encoded = encode_payload(array, "ndarray")
    store.put("frame", encoded.parts, readers=["g"])
    as_store: Store = store
    ref = Ref(RefPayload(store_id=as_store.id, key="frame", size=encoded.size, checksum=checksum(encoded.parts), codec="ndarray"), StoreRegistry([store]))
    resolved = ref.resolve()
    assert isinstance(resolved, np.ndarray) and np.array_equal(resolved, array)
    assert store.release("frame", "g") and store.get("frame") is None


# --- with the TypeScript FileStore ---


def test_typescript_put_python_get_commit_release_and_delete(store: FileStore, store_dir: Path, ts_file_store: TsFileStore) -> None:
    data = os.urandom(100_000)
    assert ts_file_store(
        [
            {"op": "put", "key": "shared", "parts": [b64(data[:10]), b64(data[10:])], "options": {"readers": ["a", "b"], "ttlMs": 60_000, "leaseMs": 30_000}},
            {"op": "put", "key": "doomed", "base64": b64(b"bye")},
            {"op": "put", "key": "counted", "base64": b64(b"n"), "options": {"readers": 2}},
        ]
    ) == [None, None, None]
    assert store.get("shared") == data and store.exists("shared")
    meta = json.loads(_meta_text(store_dir, "shared"))
    assert list(meta) == ["readers", "ttlMs", "expiresAt", "size"] and meta["readers"] == ["a", "b"] and meta["size"] == len(data)
    assert store.commit(["shared"]) == []
    assert store.stats().objects == 3
    assert not store.release("shared", "a")
    assert ts_file_store([{"op": "release", "key": "shared", "reader": "a"}, {"op": "get", "key": "doomed"}]) == [False, b64(b"bye")]
    assert store.release("shared", "b")
    assert store.delete("doomed")
    # A reader's marker is the hex of its UTF-8 name in both languages: the same group releasing twice counts once.
    assert not store.release("counted", "grüppe")
    assert ts_file_store([{"op": "release", "key": "counted", "reader": "grüppe"}]) == [False]
    assert os.listdir(store_dir / "counted" / "released") == ["grüppe".encode().hex()]
    assert store.release("counted", "other")
    assert ts_file_store([{"op": "get", "key": k} for k in ("shared", "doomed", "counted")] + [{"op": "stats"}]) == [None, None, None, {"objects": 0, "bytes": 0}]
    assert _listing(store_dir) == [".tmp/", ".trash/"]


def test_python_put_typescript_get_commit_release_and_delete(store: FileStore, store_dir: Path, ts_file_store: TsFileStore) -> None:
    data = os.urandom(100_000)
    store.put("shared", [data[:10], data[10:]], readers=["a", "b"], ttl_ms=60_000, lease_ms=30_000)
    store.put("doomed", b"bye")
    store.put("leased", b"l", lease_ms=60_000)
    store.put("counted", b"n", readers=2)
    results = ts_file_store(
        [
            {"op": "get", "key": "shared"},
            {"op": "exists", "key": "shared"},
            {"op": "stats"},
            {"op": "commit", "keys": ["shared", "leased", "missing"]},
            {"op": "release", "key": "shared", "reader": "a"},
            {"op": "delete", "key": "doomed"},
            {"op": "releaseAll", "key": "counted", "readers": ["x", "y"]},
        ]
    )
    assert results[:-1] == [b64(data), True, {"objects": 4, "bytes": len(data) + 3 + 1 + 1}, ["missing"], False, True]
    assert sorted(results[-1]) == [False, True]  # two releases at once: exactly one deleted it
    assert store.get("doomed") is None and store.get("counted") is None
    assert _meta_text(store_dir, "leased") == '{"size":1}'  # TypeScript's commit dropped the lease
    assert json.loads(_meta_text(store_dir, "shared"))["expiresAt"] >= time.time() * 1000 + 55_000
    assert store.release("shared", "b")
    assert store.get("shared") is None
    assert ts_file_store([{"op": "get", "key": "shared"}, {"op": "delete", "key": "leased"}]) == [None, True]
    assert _listing(store_dir) == [".tmp/", ".trash/"]


def test_both_languages_write_the_same_layout_and_meta_json(store: FileStore, store_dir: Path, ts_file_store: TsFileStore) -> None:
    data = os.urandom(5000)
    options = {"readers": ["a", "b", "a"], "ttlMs": 60_000.5, "leaseMs": 30_000}
    store.put("py", data, readers=["a", "b", "a"], ttl_ms=60_000.5, lease_ms=30_000)
    ts_file_store([{"op": "put", "key": "ts", "base64": b64(data), "options": options}])
    store.put("py-plain", data)
    ts_file_store([{"op": "put", "key": "ts-plain", "base64": b64(data), "options": {"readers": 3, "ttlMs": 1000}}])
    store.put("py-counted", data, readers=3, ttl_ms=1000)
    assert _listing(store_dir / "py") == _listing(store_dir / "ts") == ["data", "meta.json", "released/"]
    assert (store_dir / "py" / "data").read_bytes() == (store_dir / "ts" / "data").read_bytes() == data

    def without_expiry(text: str) -> str:
        return re.sub(r'"expiresAt":[0-9.e+]+', '"expiresAt":_', text)

    assert without_expiry(_meta_text(store_dir, "py")) == without_expiry(_meta_text(store_dir, "ts")) == '{"readers":["a","b"],"ttlMs":60000.5,"expiresAt":_,"size":5000}'
    assert without_expiry(_meta_text(store_dir, "py-counted")) == without_expiry(_meta_text(store_dir, "ts-plain")) == '{"readers":3,"ttlMs":1000,"expiresAt":_,"size":5000}'
    assert _meta_text(store_dir, "py-plain") == '{"size":5000}'
    py_expiry, ts_expiry = _expires_at(store_dir, "py"), _expires_at(store_dir, "ts")
    assert py_expiry is not None and ts_expiry is not None and abs(py_expiry - ts_expiry) < 10_000
    # Commits rewrite meta.json the same way in both languages.
    assert store.commit(["ts"]) == [] and ts_file_store([{"op": "commit", "keys": ["py"]}]) == [[]]
    assert without_expiry(_meta_text(store_dir, "py")) == without_expiry(_meta_text(store_dir, "ts")) == '{"readers":["a","b"],"ttlMs":60000.5,"expiresAt":_,"size":5000}'
    py_expiry = _expires_at(store_dir, "py")
    assert py_expiry is not None and str(py_expiry).endswith(".5")
    for key in ("py", "ts", "py-plain", "ts-plain", "py-counted"):
        assert store.delete(key)


def test_expiry_set_by_one_language_is_honoured_and_swept_by_the_other(store: FileStore, store_dir: Path, ts_file_store: TsFileStore) -> None:
    store.put("py-ttl", b"x", ttl_ms=30)
    store.put("py-lease", b"x", lease_ms=30, ttl_ms=60_000)
    assert ts_file_store(
        [
            {"op": "put", "key": "ts-ttl", "base64": b64(b"y"), "options": {"ttlMs": 1500}},
            {"op": "put", "key": "ts-lease", "base64": b64(b"y"), "options": {"leaseMs": 1500, "ttlMs": 60_000}},
            {"op": "sleep", "ms": 60},
            {"op": "exists", "key": "py-ttl"},
            {"op": "commit", "keys": ["py-lease"]},
            {"op": "sweep"},
        ]
    )[3:] == [False, ["py-lease"], 2]
    assert not (store_dir / "py-ttl").exists() and not (store_dir / "py-lease").exists()
    assert store.exists("ts-ttl") and store.exists("ts-lease")
    _sleep_past(store_dir, "ts-ttl", "ts-lease")
    assert not store.exists("ts-ttl") and store.commit(["ts-lease"]) == ["ts-lease"]
    assert store.sweep() == 2
    assert _listing(store_dir) == [".tmp/", ".trash/"]


def test_typescript_and_python_releasing_at_once_delete_exactly_once(store: FileStore, store_dir: Path) -> None:
    node = _node()
    ts_readers = [f"ts-{i}" for i in range(12)]
    py_readers = [f"py-{i}" for i in range(30)]
    store.put("k", os.urandom(10_000), readers=ts_readers + py_readers)
    process = subprocess.Popen([node, str(TS_FILE_STORE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Python releases one group every 10 ms while node starts and releases its twelve at once, so the two overlap.
    with ThreadPoolExecutor(max_workers=1) as pool:
        ts_output = pool.submit(process.communicate, _ts_request(store_dir, [{"op": "releaseAll", "key": "k", "readers": ts_readers}], {}), 60)
        py_results: list[bool] = []
        for reader in py_readers:
            py_results.append(FileStore(store_dir).release("k", reader))
            time.sleep(0.01)
        stdout, stderr = ts_output.result()
    assert process.returncode == 0, stderr.decode()
    ts_results = json.loads(stdout)[0]
    assert sum(ts_results) + sum(py_results) == 1
    assert store.get("k") is None
    assert _listing(store_dir) == [".tmp/", ".trash/"]


def test_typescript_and_python_raise_the_same_codes(tmp_path: Path, store: FileStore, ts_file_store: TsFileStore) -> None:
    assert ts_file_store([{"op": "get", "key": "../escape"}, {"op": "release", "key": "k", "reader": ""}]) == [{"error": "PS_INVALID_KEY"}, {"error": "PS_CONFIG"}]
    assert ts_file_store([{"op": "get", "key": "k"}], dir=str(tmp_path / "missing"), create=False) == [{"error": "PS_CONFIG"}]
    assert not (tmp_path / "missing").exists()
    with pytest.raises(errors.ConfigError):
        FileStore(tmp_path / "missing", create=False)
    # A directory that TypeScript created opens read-only in Python, and the other way round.
    ts_file_store([{"op": "put", "key": "k", "base64": b64(b"v")}], dir=str(tmp_path / "from-ts"))
    assert FileStore(tmp_path / "from-ts", create=False).get("k") == b"v"
    FileStore(tmp_path / "from-py").put("k", b"w")
    assert ts_file_store([{"op": "get", "key": "k"}], dir=str(tmp_path / "from-py"), create=False) == [base64.b64encode(b"w").decode()]
