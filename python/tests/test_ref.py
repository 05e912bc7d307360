"""Refs: a TypeScript producer's ref resolves here, verified; a missing or corrupted payload raises a typed error."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import redis

from conftest import TsStore
from proxystream import errors
from proxystream.proxy import Ref, StoreRegistry
from proxystream.store import RedisStore
from proxystream.wire import InlinePayload, RefPayload, decode_event, encode_ndarray, join_parts


@pytest.fixture
def stores(redis_url: str, prefix: str):
    with StoreRegistry([RedisStore(url=redis_url, key_prefix=prefix, chunk_bytes=1024)]) as registry:
        yield registry


def ts_ref_event(ts_store: TsStore, key: str, values: list[float], shape: list[int]) -> bytes:
    [event] = ts_store([{"op": "refEvent", "key": key, "topic": "frames", "shape": shape, "values": values, "metadata": {"step": 1}}])
    return base64.b64decode(event)


def test_a_typescript_ref_resolves_to_the_verified_array(stores: StoreRegistry, ts_store: TsStore) -> None:
    values = [float(i) / 4 for i in range(600)]
    event = decode_event(ts_ref_event(ts_store, "frame-1", values, [20, 30]))
    assert event.metadata == {"step": 1} and isinstance(event.payload, RefPayload)
    ref = Ref(event.payload, stores)
    array = ref.resolve()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32 and array.shape == (20, 30)
    assert np.array_equal(array.reshape(-1), np.array(values, dtype=np.float32))
    assert ref.size == event.payload.size and not ref.inline and ref.codec == "ndarray"
    assert stores.get("redis").delete("frame-1")
    assert np.array_equal(ref.resolve(), array), "the verified bytes are kept until forget()"
    ref.forget()
    with pytest.raises(errors.MissingPayloadError) as raised:
        ref.resolve()
    assert raised.value.context == {"storeId": "redis", "key": "frame-1"}


def test_corrupted_bytes_raise_corrupt_payload(stores: StoreRegistry, ts_store: TsStore, raw: redis.Redis, prefix: str) -> None:
    event = decode_event(ts_ref_event(ts_store, "frame-2", [1.0, 2.0, 3.0, 4.0], [4]))
    assert isinstance(event.payload, RefPayload)
    chunk = f"{prefix}:{{frame-2}}:c:0"
    stored = raw.get(chunk)
    assert stored is not None
    raw.set(chunk, stored[:-1] + bytes([stored[-1] ^ 1]))
    with pytest.raises(errors.CorruptPayloadError, match="checksum"):
        Ref(event.payload, stores).resolve()
    raw.set(chunk, stored + b"\x00")
    with pytest.raises(errors.CorruptPayloadError, match="bytes"):
        Ref(event.payload, stores).resolve()
    assert stores.get("redis").delete("frame-2")


def test_an_unknown_store_or_no_registry_raises_and_inline_payloads_need_neither() -> None:
    ref = RefPayload(store_id="elsewhere", key="k", size=1, checksum="00" * 8, codec="bytes")
    with pytest.raises(errors.UnknownStoreError):
        Ref(ref, StoreRegistry()).resolve()
    with pytest.raises(errors.MissingPayloadError):
        Ref(ref).resolve()
    inline = Ref(InlinePayload(codec="ndarray", data=join_parts(encode_ndarray(np.arange(3, dtype=np.uint16)))))
    assert inline.inline and np.array_equal(inline.resolve(), [0, 1, 2])


def test_two_stores_with_one_id_are_a_config_error(redis_url: str) -> None:
    first, second = RedisStore(url=redis_url), RedisStore(url=redis_url)
    with pytest.raises(errors.ConfigError):
        StoreRegistry([first, second])
    first.close()
    second.close()
