"""The ``ndarray`` payload codec, byte for byte as ``src/wire/ndarray.ts`` writes it.

Layout: ``[magic u32 LE 'PSND'][header length u32 LE][msgpack [dtype, shape, bare]][zero padding][data]``,
the data starting on an 8-byte boundary, little-endian, row-major. ``bare`` is true when TypeScript wrote
a plain typed array (it reads one back) and false for ``{ dtype, shape, data }``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Union

import numpy as np

from ..errors import CodecError
from . import msgpack_js

Buffer = Union[bytes, bytearray, memoryview]

DTYPES: dict[str, np.dtype] = {
    name: np.dtype(code)
    for name, code in (
        ("int8", "<i1"),
        ("uint8", "<u1"),
        ("int16", "<i2"),
        ("uint16", "<u2"),
        ("int32", "<i4"),
        ("uint32", "<u4"),
        ("float32", "<f4"),
        ("float64", "<f8"),
        ("int64", "<i8"),
        ("uint64", "<u8"),
    )
}
"""Element types the codec carries, named as in NumPy (and in TypeScript's ``DTYPES``)."""

_NAMES = {(dtype.kind, dtype.itemsize): name for name, dtype in DTYPES.items()}
_MAGIC = 0x444E5350
_PREFIX = struct.Struct("<II")
_ALIGN = 8


@dataclass(frozen=True)
class NDArrayHeader:
    """What an ndarray payload says about its data."""

    dtype: str
    shape: tuple[int, ...]
    bare: bool
    """True when the writer gave a bare 1-d typed array (TypeScript reads a typed array back)."""
    data_offset: int
    """Where the data starts in the payload (a multiple of 8)."""


def dtype_name(array: np.ndarray) -> str:
    """The codec's name for the array's element type; raises :class:`CodecError` for any other."""
    name = _NAMES.get((array.dtype.kind, array.dtype.itemsize))
    if name is None:
        supported = ", ".join(DTYPES)
        raise CodecError(f"ndarray dtype {array.dtype} is not carried; use one of {supported}")
    return name


def encode_ndarray(array: np.ndarray, *, bare: bool = False) -> list[Buffer]:
    """Encodes ``array`` as parts ``[head, data]``.

    The data part is the array's own memory when it is already little-endian and C-contiguous;
    otherwise one converted copy. ``bare=True`` (1-d arrays only) makes TypeScript read back a plain
    typed array instead of ``{ dtype, shape, data }``.
    """
    if not isinstance(array, np.ndarray):
        raise CodecError("codec ndarray needs a numpy array")
    name = dtype_name(array)
    if bare and array.ndim != 1:
        raise CodecError(f"a bare ndarray must have 1 dimension, not {array.ndim}")
    data = array.astype(DTYPES[name], order="C", copy=False)
    header = msgpack_js.pack([name, list(data.shape), bare])
    padded = -(-(_PREFIX.size + len(header)) // _ALIGN) * _ALIGN
    head = bytearray(padded)
    _PREFIX.pack_into(head, 0, _MAGIC, len(header))
    head[_PREFIX.size : _PREFIX.size + len(header)] = header
    return [bytes(head), data.reshape(-1).view(np.uint8).data]


def read_ndarray_header(payload: Buffer) -> NDArrayHeader:
    """Parses and checks the header of an ndarray payload; raises :class:`CodecError` when it is not one."""
    view = memoryview(payload).cast("B")
    if len(view) < _PREFIX.size or _PREFIX.unpack_from(view)[0] != _MAGIC:
        raise CodecError("not an ndarray payload (bad magic)")
    header_length = _PREFIX.unpack_from(view)[1]
    if _PREFIX.size + header_length > len(view):
        raise CodecError("ndarray header runs past the payload")
    try:
        header = msgpack_js.unpack(view[_PREFIX.size : _PREFIX.size + header_length])
    except msgpack_js.UnpackError as cause:
        raise CodecError("ndarray header is not valid msgpack") from cause
    if not isinstance(header, list) or len(header) != 3:
        raise CodecError("ndarray header has the wrong shape")
    dtype, shape, bare = header
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise CodecError(f"unknown ndarray dtype {dtype}")
    if not isinstance(shape, list) or not all(_is_dimension(dim) for dim in shape):
        raise CodecError("ndarray shape is invalid")
    start = -(-(_PREFIX.size + header_length) // _ALIGN) * _ALIGN
    dims = tuple(int(dim) for dim in shape)
    elements = 1
    for dim in dims:
        elements *= dim
    data_bytes = len(view) - start
    needed = elements * DTYPES[dtype].itemsize
    if data_bytes < 0 or data_bytes != needed:
        raise CodecError(f"ndarray data has {data_bytes} bytes, shape needs {needed}")
    return NDArrayHeader(dtype=dtype, shape=dims, bare=bare is True, data_offset=start)


def decode_ndarray(payload: Buffer) -> np.ndarray:
    """Decodes an ndarray payload: a view of ``payload`` when its data lands aligned, else one copy.

    A view of immutable bytes is read-only; copy it to write.
    """
    header = read_ndarray_header(payload)
    dtype = DTYPES[header.dtype]
    elements = (len(memoryview(payload).cast("B")) - header.data_offset) // dtype.itemsize
    array = np.frombuffer(payload, dtype=dtype, count=elements, offset=header.data_offset)
    if not array.flags.aligned:
        array = array.copy()
    return array.reshape(header.shape)


def _is_dimension(value: object) -> bool:
    if type(value) is int:
        return value >= 0
    return type(value) is float and value.is_integer() and value >= 0
