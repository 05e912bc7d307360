"""Payload codecs, as ``src/wire/codecs.ts``: how stored bytes are read back.

- ``bytes``: raw bytes;
- ``ndarray``: a numpy array (see :mod:`proxystream.wire.ndarray`);
- ``arrow``: a ``pyarrow.Table``, as Arrow IPC *stream* bytes (what apache-arrow's ``tableToIPC(table, 'stream')``
  writes and ``tableFromIPC`` reads); pyarrow is the optional extra ``arrow``, and without it this codec
  raises :class:`MissingDependencyError` (``context['package'] == 'pyarrow'``);
- ``msgpack``: any other plain value (None, booleans, numbers, strings, bytes, lists, dicts with string keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

import sys
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import CodecError, MissingDependencyError
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


def _pyarrow() -> Any:
    """pyarrow, or :class:`MissingDependencyError` naming the package to install."""
    try:
        import pyarrow
        import pyarrow.ipc  # noqa: F401 - the IPC reader and writer
    except ImportError as cause:
        raise MissingDependencyError(
            "the arrow codec needs pyarrow: pip install 'proxystream[arrow]' (or pyarrow)",
            context={"package": "pyarrow", "feature": "the arrow codec"},
        ) from cause
    return pyarrow


def _is_arrow_table(value: object) -> bool:
    """True for a ``pyarrow.Table``; never imports pyarrow (a value cannot be a Table unless it is loaded)."""
    loaded = sys.modules.get("pyarrow")
    return isinstance(loaded, ModuleType) and isinstance(value, loaded.Table)


def codec_for(value: object) -> CodecName:
    """bytes for bytes-like values, ndarray for numpy arrays, arrow for pyarrow Tables, else msgpack."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes"
    if isinstance(value, np.ndarray):
        return "ndarray"
    if _is_arrow_table(value):
        return "arrow"
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
        return [_encode_arrow(value)]
    raise CodecError(f"unknown codec {codec}")


def _encode_arrow(value: object) -> Buffer:
    """An Arrow IPC stream (schema, record batches, end-of-stream marker), as ``tableToIPC(table, 'stream')``."""
    if not _is_arrow_table(value):
        raise CodecError("codec arrow needs a pyarrow Table")
    pa = _pyarrow()
    table: Any = value
    try:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return memoryview(sink.getvalue())
    except (pa.ArrowException, ValueError, TypeError) as cause:
        raise CodecError(f"cannot encode value with codec arrow: {cause}") from cause


def _decode_arrow(payload: Buffer) -> object:
    """A ``pyarrow.Table`` from IPC stream bytes (or the IPC file format, which ``tableFromIPC`` also reads).

    As TypeScript: no bytes at all are an empty table; other bytes without a schema field are refused.
    """
    pa = _pyarrow()
    data = memoryview(payload).cast("B")
    if data.nbytes == 0:
        return pa.table({})
    try:
        source = pa.py_buffer(data)
        if bytes(data[:6]) == b"ARROW1":
            table = pa.ipc.open_file(source).read_all()
        else:
            table = pa.ipc.open_stream(source).read_all()
    except (pa.ArrowException, ValueError, TypeError, OSError) as cause:
        raise CodecError("stored bytes are not valid arrow") from cause
    if table.num_columns == 0:
        raise CodecError("stored bytes are not an Arrow IPC stream")
    return table


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
        return _decode_arrow(payload)
    raise CodecError(f"unknown codec {codec}")


def join_parts(parts: list[Buffer]) -> bytes:
    """Joins encoded parts into one bytes object."""
    return b"".join(parts)
