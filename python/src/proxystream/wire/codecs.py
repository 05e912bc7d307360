"""Payload codecs, as ``src/wire/codecs.ts``: how stored bytes are read back.

- ``bytes``: raw bytes;
- ``ndarray``: a numpy array (see :mod:`proxystream.wire.ndarray`);
- ``msgpack``: any other plain value (None, booleans, numbers, strings, bytes, lists, dicts with string keys).

The ``arrow`` codec id is known (events that name it decode), but the Python client does not encode
or decode Arrow payloads: they raise :class:`CodecError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

import numpy as np

from ..errors import CodecError
from . import msgpack_js
from .ndarray import decode_ndarray, encode_ndarray

Buffer = Union[bytes, bytearray, memoryview]
CodecName = Literal["bytes", "ndarray", "arrow", "msgpack"]

CODEC_IDS: dict[str, int] = {"bytes": 0, "ndarray": 1, "arrow": 2, "msgpack": 3}
CODEC_NAMES: tuple[CodecName, ...] = ("bytes", "ndarray", "arrow", "msgpack")


@dataclass(frozen=True)
class EncodedPayload:
    """A value encoded for storage: its codec and its bytes, kept as parts to avoid a joining copy."""

    codec: CodecName
    parts: list[Buffer]
    size: int


def codec_for(value: object) -> CodecName:
    """bytes for bytes-like values, ndarray for numpy arrays, else msgpack."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes"
    if isinstance(value, np.ndarray):
        return "ndarray"
    return "msgpack"


def encode_payload(value: object, codec: CodecName | None = None) -> EncodedPayload:
    """Encodes ``value`` with ``codec`` (default: :func:`codec_for`). Raises :class:`CodecError` when it cannot."""
    name = codec_for(value) if codec is None else codec
    parts = _encode_parts(value, name)
    return EncodedPayload(codec=name, parts=parts, size=sum(memoryview(part).nbytes for part in parts))


def _encode_parts(value: object, codec: str) -> list[Buffer]:
    if codec == "bytes":
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise CodecError("codec bytes needs bytes, bytearray or memoryview")
        return [value]
    if codec == "ndarray":
        if not isinstance(value, np.ndarray):
            raise CodecError("codec ndarray needs a numpy array")
        return encode_ndarray(value)
    if codec == "msgpack":
        try:
            return [msgpack_js.pack(value)]
        except (msgpack_js.PackError, RecursionError) as cause:
            raise CodecError(f"cannot encode value with codec msgpack: {cause}") from cause
    if codec == "arrow":
        raise CodecError("the Python client does not encode the arrow codec")
    raise CodecError(f"unknown codec {codec}")


def decode_payload(payload: Buffer, codec: CodecName) -> object:
    """Decodes stored bytes back to a value. Raises :class:`CodecError` on bytes the codec cannot read."""
    if codec == "bytes":
        return payload
    if codec == "ndarray":
        return decode_ndarray(payload)
    if codec == "msgpack":
        try:
            return msgpack_js.unpack(payload)
        except msgpack_js.UnpackError as cause:
            raise CodecError("stored bytes are not valid msgpack") from cause
    if codec == "arrow":
        raise CodecError("the Python client does not decode the arrow codec")
    raise CodecError(f"unknown codec {codec}")


def join_parts(parts: list[Buffer]) -> bytes:
    """Joins encoded parts into one bytes object."""
    return b"".join(parts)
