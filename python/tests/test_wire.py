"""The wire beyond the shared vectors: limits, typed errors, zero-copy views and numpy inputs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from helpers import REPO
from proxystream import errors
from proxystream.wire import (
    DEFAULT_WIRE_LIMITS,
    EventFields,
    InlinePayload,
    RefPayload,
    WireLimits,
    decode_dead_letter,
    decode_event,
    decode_ndarray,
    decode_payload,
    encode_dead_letter,
    encode_event,
    encode_ndarray,
    encode_payload,
    id_from_string,
    id_to_string,
    is_dead_letter,
    join_parts,
    new_id_bytes,
)
from proxystream.wire.dead_letter import DeadLetter
from proxystream.wire.msgpack_js import js_number_string, pack, unpack


def event(**changes: object) -> EventFields:
    fields: dict[str, object] = {"kind": "data", "id_bytes": new_id_bytes(), "topic": "t", "timestamp": 1, "metadata": {}, "payload": InlinePayload("bytes", b"x")}
    fields.update(changes)
    return EventFields(**fields)  # type: ignore[arg-type]


def test_error_codes_are_the_typescript_ones() -> None:
    source = (REPO / "src" / "errors" / "index.ts").read_text(encoding="utf-8")
    block = source[source.index("export const ErrorCodes") : source.index("} as const")]
    typescript = dict(re.findall(r"(\w+): '(PS_\w+)'", block))
    python = {name: value for name, value in vars(errors.ErrorCodes).items() if name.isupper()}
    assert python == typescript
    classes = re.findall(r"export class (\w+Error) extends ProxyStreamError", source)
    for name in classes:
        assert issubclass(getattr(errors, name), errors.ProxyStreamError), name


def test_encoding_refuses_metadata_over_the_limits_with_limit_exceeded() -> None:
    nested: dict[str, object] = {"leaf": 1}
    for _ in range(8):
        nested = {"next": nested}
    for metadata in ({"k": {1, 2}}, nested, {f"k{i}": i for i in range(4097)}, {1: "int key"}, [1]):
        with pytest.raises(errors.LimitExceededError) as raised:
            encode_event(event(metadata=metadata))
        assert raised.value.code == "PS_LIMIT_EXCEEDED"
        assert raised.value.context == {"topic": "t"}


def test_encoding_refuses_an_integer_javascript_cannot_carry_and_an_oversized_event() -> None:
    with pytest.raises(errors.LimitExceededError):
        encode_event(event(metadata={"n": 2**53 + 1}))
    with pytest.raises(errors.LimitExceededError, match="maxEventBytes 100"):
        encode_event(event(payload=InlinePayload("bytes", bytes(200))), WireLimits(max_event_bytes=100))


def test_decoding_applies_the_limits_it_is_given() -> None:
    encoded = encode_event(event(topic="t" * 20))
    with pytest.raises(errors.MalformedEventError):
        decode_event(encoded, WireLimits(max_name_length=10))
    with pytest.raises(errors.MalformedEventError):
        decode_event(encoded, WireLimits(max_event_bytes=len(encoded) - 1))
    assert decode_event(encoded, DEFAULT_WIRE_LIMITS).topic == "t" * 20
    with pytest.raises(errors.MalformedEventError):
        decode_event("not bytes")  # type: ignore[arg-type]


def test_a_ref_keyed_by_the_event_id_leaves_the_key_out() -> None:
    id_bytes = new_id_bytes()
    ref = RefPayload(store_id="redis", key=id_to_string(id_bytes), size=3, checksum="00" * 8, codec="bytes")
    same = encode_event(event(id_bytes=id_bytes, payload=ref))
    other = encode_event(event(id_bytes=id_bytes, payload=RefPayload("redis", "other", 3, "00" * 8, "bytes")))
    assert len(other) - len(same) == len(pack("other"))
    assert decode_event(same).payload == ref
    with pytest.raises(errors.MalformedEventError):
        encode_event(event(payload=RefPayload("redis", "k", 3, "not hex", "bytes")))


def test_ids_round_trip_and_reject_other_text() -> None:
    id_bytes = new_id_bytes()
    text = id_to_string(id_bytes)
    assert len(text) == 22 and id_from_string(text) == id_bytes
    for bad in ("", "a" * 21, "a" * 23, "+" * 22):
        assert id_from_string(bad) is None


def test_ndarray_decodes_to_a_view_of_aligned_bytes_and_copies_misaligned_ones() -> None:
    array = np.arange(12, dtype=np.float64).reshape(3, 4)
    payload = join_parts(encode_ndarray(array))
    buffer = bytearray(payload)
    view = decode_ndarray(buffer)
    assert np.shares_memory(view, np.frombuffer(buffer, dtype=np.uint8))
    assert np.array_equal(view, array) and view.flags.aligned
    shifted = bytearray(b"\x00" + payload)
    misaligned = decode_ndarray(memoryview(shifted)[1:])
    assert np.array_equal(misaligned, array) and misaligned.flags.aligned
    assert not np.shares_memory(misaligned, np.frombuffer(shifted, dtype=np.uint8))


def test_ndarray_encoding_keeps_the_callers_memory_when_it_can() -> None:
    array = np.arange(8, dtype=np.int32)
    head, data = encode_ndarray(array)
    assert np.shares_memory(np.frombuffer(data, dtype=np.uint8), array.view(np.uint8))
    swapped = array.astype(">i4")
    assert join_parts(encode_ndarray(swapped)) == join_parts(encode_ndarray(array))


@pytest.mark.parametrize("array", [np.zeros(2, dtype=np.bool_), np.zeros(2, dtype=np.float16), np.zeros(2, dtype=np.complex64)])
def test_ndarray_refuses_dtypes_typescript_does_not_carry(array: np.ndarray) -> None:
    with pytest.raises(errors.CodecError):
        encode_payload(array)


def test_ndarray_refuses_a_bare_array_of_two_dimensions_and_bad_bytes() -> None:
    with pytest.raises(errors.CodecError):
        encode_ndarray(np.zeros((2, 2)), bare=True)
    good = join_parts(encode_ndarray(np.arange(4, dtype=np.int16)))
    for bad in (b"", b"XXXX\x00\x00\x00\x00", good[:4] + b"\xff\x00\x00\x00" + good[8:], good[:-1], good + b"\x00\x00"):
        with pytest.raises(errors.CodecError) as raised:
            decode_payload(bad, "ndarray")
        assert raised.value.code == "PS_CODEC"


def test_msgpack_codec_carries_plain_data_only() -> None:
    with pytest.raises(errors.CodecError):
        encode_payload({1: "int key"}, "msgpack")
    with pytest.raises(errors.CodecError):
        encode_payload(object(), "msgpack")
    for extension in (b"\xd6\xff\x00\x00\x00\x01", b"\x91\xd6\xff\x00\x00\x00\x01", b"\xd4\x05\x00"):
        with pytest.raises(errors.CodecError):
            decode_payload(extension, "msgpack")
    with pytest.raises(errors.CodecError):
        encode_payload(b"x", "arrow")


def test_map_keys_that_are_not_strings_get_the_javascript_property_name() -> None:
    assert unpack(b"\x84\xc0\x01\xc3\x02\x05\x03\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\x04") == {"null": 1, "true": 2, "5": 3, "1.5": 4}
    with pytest.raises(ValueError):
        unpack(b"\x81\xc4\x01a\x01")


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.5, "1.5"), (100.0, "100"), (1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-7, "1e-7"), (1.5e-6, "0.0000015"), (2.0**64, "18446744073709552000"), (-0.0, "0"), (5e-324, "5e-324"), (float("nan"), "NaN"), (float("-inf"), "-Infinity"), (123.456, "123.456")],
)
def test_numbers_are_written_as_javascript_writes_them(value: float, text: str) -> None:
    assert js_number_string(value) == text


def test_dead_letters_round_trip_and_are_recognised_by_their_first_bytes() -> None:
    letter = DeadLetter("t", "1-0", "g", 3, "PS_HANDLER", "boom", 1.0, b"\x01", attempts=1, key="k")
    encoded = encode_dead_letter(letter)
    assert is_dead_letter(encoded) and decode_dead_letter(encoded) == letter
    assert not is_dead_letter(encode_event(event()))
    assert not is_dead_letter(b"")
    other_version = encoded.replace(b"ps-dead-letter/2", b"ps-dead-letter/9")
    assert is_dead_letter(other_version)
    with pytest.raises(errors.MalformedEventError, match="version 9"):
        decode_dead_letter(other_version)
    with pytest.raises(errors.MalformedEventError):
        decode_dead_letter(pack({"t": "ps-dead-letter/2", "topic": 5}))
