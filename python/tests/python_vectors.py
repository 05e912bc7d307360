"""The vectors the Python client writes: test/vectors/python-vectors.json, decoded by the TypeScript tests.

    python python/tests/python_vectors.py      # rewrites the file (test_vectors.py checks it is current)
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from helpers import VECTORS, dead_letter_expectation, event_expectation, ndarray_expectation, to_tagged
from proxystream.wire import (
    DeadLetter,
    EventFields,
    InlinePayload,
    RefPayload,
    checksum,
    decode_event,
    decode_ndarray,
    decode_payload,
    encode_dead_letter,
    encode_event,
    encode_ndarray,
    encode_payload,
    id_to_string,
    join_parts,
)

PYTHON_VECTORS_PATH = VECTORS / "python-vectors.json"
TIME = 1_700_000_000_456


def _id(n: int) -> bytes:
    return bytes((n * 41 + j * 13) & 0xFF for j in range(16))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _events() -> list[dict[str, Any]]:
    def ref(n: int, **changes: Any) -> RefPayload:
        fields = {"store_id": "redis", "key": id_to_string(_id(n)), "size": 8192, "checksum": "fedcba9876543210", "codec": "ndarray"}
        fields.update(changes)
        return RefPayload(**fields)

    def data(n: int, **changes: Any) -> EventFields:
        fields: dict[str, Any] = {"kind": "data", "id_bytes": _id(n), "topic": "sim.frames", "timestamp": TIME, "metadata": {}, "payload": ref(n)}
        fields.update(changes)
        return EventFields(**fields)

    cases = [
        ("ref whose key is the event id", data(1)),
        ("ref with its own key, an event key and numpy metadata", data(2, key="run-2", payload=ref(2, key="frame-000002", codec="bytes"), metadata={"step": 2, "temperature": 310.15})),
        ("inline bytes from a bytearray", data(3, payload=InlinePayload(codec="bytes", data=bytes(bytearray(b"\x00\x01\xff"))))),
        ("inline ndarray", data(4, payload=InlinePayload(codec="ndarray", data=join_parts(encode_ndarray(np.arange(4, dtype=np.float64)))))),
        ("end of stream", EventFields(kind="end", id_bytes=_id(5), topic="sim.frames", timestamp=TIME, metadata={})),
        ("integral floats and ints are one JavaScript number", data(6, metadata={"f": 3.0, "neg": -0.0, "big": 2**60, "bigf": 2.0**60, "i": 4294967296})),
        ("keys in insertion order that JavaScript reorders", data(7, metadata={"b": 1, "10": 2, "2": 3, "a": 4, "01": 5, "4294967295": 6})),
        ("tuples, bytearray and memoryview in metadata", data(8, metadata={"t": (1, (2, 3)), "ba": bytearray(b"ab"), "mv": memoryview(b"cd")})),
        ("unicode everywhere", data(9, topic="温度/센서", key="ключ-🧪", metadata={"名前": "データ", "emoji": "🚀", "nested": {"β": ["γ", None, True, False]}})),
        ("__proto__ keys", data(10, metadata={"__proto__": {"__proto__": 1}, "constructor": 2})),
        ("non-finite floats", data(11, metadata={"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "tiny": 5e-324})),
        ("timestamp as a float with a fraction", data(12, timestamp=1_700_000_000_000.25)),
        ("names at the 256 UTF-16 unit limit", data(13, topic="🧪" * 128, key="k" * 256, payload=ref(13, store_id="s" * 256, key="r" * 255))),
        ("numpy scalars turned to Python numbers", data(14, metadata={"step": int(np.int64(7)), "loss": float(np.float32(0.5))})),
    ]
    vectors = []
    for name, fields in cases:
        encoded = encode_event(fields)
        vectors.append({"name": name, "base64": _b64(encoded), "expect": event_expectation(decode_event(encoded))})
    return vectors


def _payloads() -> list[dict[str, Any]]:
    big_endian = np.array([[1, -2], [3, -4]], dtype=">i4")
    strided = np.arange(12, dtype=np.float64).reshape(3, 4)[:, ::2]
    ndarrays: list[tuple[str, np.ndarray, bool]] = [
        ("int8", np.array([-128, 0, 127], dtype=np.int8), False),
        ("uint8", np.array([[0, 255]], dtype=np.uint8), False),
        ("int16", np.array([-32768, 32767], dtype=np.int16), False),
        ("uint16", np.array([0, 65535], dtype=np.uint16), False),
        ("int32", np.arange(6, dtype=np.int32).reshape(2, 3), False),
        ("uint32", np.array([4294967295], dtype=np.uint32), False),
        ("float32", np.array([0.1, -0.0, np.inf, np.nan], dtype=np.float32), False),
        ("float64", np.array([[np.pi], [np.e]], dtype=np.float64), False),
        ("int64", np.array([-(2**63), 2**63 - 1], dtype=np.int64), False),
        ("uint64", np.array([2**64 - 1], dtype=np.uint64), False),
        ("bare float64 (TypeScript reads a typed array)", np.array([1.5, 2.5], dtype=np.float64), True),
        ("big-endian input", big_endian, False),
        ("Fortran-ordered input", np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)), False),
        ("strided view", strided, False),
        ("0-d", np.array(7.25, dtype=np.float64), False),
        ("empty 0", np.zeros(0, dtype=np.float32), False),
        ("empty 3x0", np.zeros((3, 0), dtype=np.int64), False),
    ]
    vectors = []
    for name, array, bare in ndarrays:
        payload = join_parts(encode_ndarray(array, bare=bare))
        vectors.append(
            {"name": f"ndarray {name}", "codec": "ndarray", "base64": _b64(payload), "checksum": checksum(payload), "expect": ndarray_expectation(payload, decode_ndarray(payload))}
        )
    msgpacks: list[tuple[str, Any]] = [
        ("dict", {"step": 3, "energy": -1.25, "tags": ("x", "y"), "raw": b"\x01\x02", "ok": True, "none": None}),
        ("array-index keys", {"z": 1, "3": "three", "1": "one"}),
        ("top-level list", [1, [2.5, []], {}]),
        ("top-level string", "été"),
    ]
    for name, value in msgpacks:
        payload = join_parts(encode_payload(value, "msgpack").parts)
        vectors.append(
            {"name": f"msgpack {name}", "codec": "msgpack", "base64": _b64(payload), "checksum": checksum(payload), "expect": {"value": to_tagged(decode_payload(payload, "msgpack"))}}
        )
    for name, value in (("bytes 0", b""), ("bytes 300", bytes(range(256)) + bytes(44))):
        vectors.append({"name": name, "codec": "bytes", "base64": _b64(value), "checksum": checksum(value), "expect": {"value": to_tagged(value)}})
    return vectors


def _dead_letters() -> list[dict[str, Any]]:
    plain = DeadLetter(topic="sim.frames", position="1700000000456-3", group="trainers", delivery_count=10, code="PS_CORRUPT_PAYLOAD", message="checksum mismatch: é", failed_at=TIME, original=b"\x97\x01")
    keyed = DeadLetter(**{**plain.__dict__, "attempts": 2, "key": "run-2"})
    vectors = []
    for name, letter in (("plain", plain), ("with attempts and key", keyed)):
        vectors.append({"name": name, "base64": _b64(encode_dead_letter(letter)), "expect": dead_letter_expectation(letter)})
    return vectors


def _checksums() -> list[dict[str, Any]]:
    vectors = []
    for length in (0, 5, 32, 100, 4096):
        data = bytes((i * 7 + length) & 0xFF for i in range(length))
        vectors.append({"name": f"{length} bytes", "base64": _b64(data), "checksum": checksum(data)})
    return vectors


def build() -> dict[str, Any]:
    """Every Python-written vector, as written to :data:`PYTHON_VECTORS_PATH`."""
    return {"format": 1, "writer": "python", "events": _events(), "payloads": _payloads(), "deadLetters": _dead_letters(), "checksums": _checksums()}


def serialized() -> str:
    """The file's text."""
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    PYTHON_VECTORS_PATH.write_text(serialized(), encoding="utf-8")
    print(f"wrote {PYTHON_VECTORS_PATH}")
