"""msgpack exactly as the TypeScript library writes and reads it (msgpackr with ``useRecords: false``).

Packing follows msgpackr byte for byte: numbers are JavaScript numbers (an integral value in the
uint32 or int32 range is packed as the smallest integer, anything else as float64, ``-0`` as ``0``);
every map is a map16; map keys come out in JavaScript's property order (array-index keys first, in
numeric order, then the others in insertion order); lone surrogates become U+FFFD.

Unpacking keeps every map key exactly (``__proto__`` included) and turns non-string keys into the
strings JavaScript makes of them. Extension types (timestamps included) are refused: nothing but plain
data ever comes out, and nothing is looked up by name.
"""

from __future__ import annotations

import math
import re
import struct
from typing import Any, Iterable

import msgpack

_INDEX_KEY = re.compile(r"0|[1-9][0-9]{0,9}")
_MAX_INDEX = 2**32 - 2
_FLOAT64 = struct.Struct(">Bd")


class PackError(ValueError):
    """A value that msgpack as the TypeScript side writes it cannot carry."""


class UnpackError(ValueError):
    """Bytes that are not msgpack of plain data."""


def pack(value: object) -> bytes:
    """``value`` packed as msgpackr packs the same JavaScript value."""
    out = bytearray()
    _pack(value, out)
    return bytes(out)


def _pack(value: object, out: bytearray) -> None:
    if value is None:
        out.append(0xC0)
    elif value is True:
        out.append(0xC3)
    elif value is False:
        out.append(0xC2)
    elif isinstance(value, int):
        _pack_int(value, out)
    elif isinstance(value, float):
        _pack_float(value, out)
    elif isinstance(value, str):
        _pack_str(value, out)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        _pack_bin(value, out)
    elif isinstance(value, (list, tuple)):
        _pack_array(value, out)
    elif isinstance(value, dict):
        _pack_map(value, out)
    else:
        raise PackError(f"cannot pack a value of type {type(value).__name__}")


def _pack_int(value: int, out: bytearray) -> None:
    if 0 <= value < 0x80:
        out.append(value)
    elif 0 <= value < 0x100:
        out += bytes((0xCC, value))
    elif 0 <= value < 0x10000:
        out += b"\xcd" + value.to_bytes(2, "big")
    elif 0 <= value < 0x100000000:
        out += b"\xce" + value.to_bytes(4, "big")
    elif -0x20 <= value < 0:
        out.append(0x100 + value)
    elif -0x80 <= value < 0:
        out += b"\xd0" + value.to_bytes(1, "big", signed=True)
    elif -0x8000 <= value < 0:
        out += b"\xd1" + value.to_bytes(2, "big", signed=True)
    elif -0x80000000 <= value < 0:
        out += b"\xd2" + value.to_bytes(4, "big", signed=True)
    else:
        try:
            as_float = float(value)
        except OverflowError:
            as_float = math.inf
        if as_float != value:
            raise PackError(f"integer {value} is no JavaScript number (it would arrive changed)")
        out += _FLOAT64.pack(0xCB, as_float)


def _pack_float(value: float, out: bytearray) -> None:
    if value.is_integer() and -0x80000000 <= value < 0x100000000:
        _pack_int(int(value), out)
    else:
        out += _FLOAT64.pack(0xCB, value)


def _pack_str(value: str, out: bytearray) -> None:
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:
        # Surrogates: pairs join into one character and lone ones become U+FFFD, as in JavaScript.
        data = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode("utf-8")
    length = len(data)
    if length < 0x20:
        out.append(0xA0 | length)
    elif length < 0x100:
        out += bytes((0xD9, length))
    elif length < 0x10000:
        out += b"\xda" + length.to_bytes(2, "big")
    else:
        out += b"\xdb" + length.to_bytes(4, "big")
    out += data


def _pack_bin(value: bytes | bytearray | memoryview, out: bytearray) -> None:
    data = bytes(value) if isinstance(value, memoryview) else value
    length = len(data)
    if length < 0x100:
        out += bytes((0xC4, length))
    elif length < 0x10000:
        out += b"\xc5" + length.to_bytes(2, "big")
    else:
        out += b"\xc6" + length.to_bytes(4, "big")
    out += data


def _pack_array(value: list[Any] | tuple[Any, ...], out: bytearray) -> None:
    length = len(value)
    if length < 0x10:
        out.append(0x90 | length)
    elif length < 0x10000:
        out += b"\xdc" + length.to_bytes(2, "big")
    else:
        out += b"\xdd" + length.to_bytes(4, "big")
    for item in value:
        _pack(item, out)


def _pack_map(value: dict[Any, Any], out: bytearray) -> None:
    if len(value) > 0xFFFF:
        raise PackError(f"a map of {len(value)} entries exceeds the 65535 a JavaScript object is packed with")
    for key in value:
        if not isinstance(key, str):
            raise PackError(f"map keys must be strings, not {type(key).__name__}")
    out += b"\xde" + len(value).to_bytes(2, "big")
    for key in js_key_order(value):
        _pack_str(key, out)
        _pack(value[key], out)


def js_key_order(keys: Iterable[str]) -> list[str]:
    """Keys in the order JavaScript enumerates an object's own properties."""
    ordered = list(keys)
    indices = [key for key in ordered if _is_index(key)]
    if not indices:
        return ordered
    indices.sort(key=int)
    return indices + [key for key in ordered if not _is_index(key)]


def _is_index(key: str) -> bool:
    return _INDEX_KEY.fullmatch(key) is not None and int(key) <= _MAX_INDEX


def unpack(data: bytes | bytearray | memoryview) -> Any:
    """Decodes one msgpack value that fills ``data`` exactly. Raises :class:`UnpackError` on anything else."""
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            unicode_errors="replace",
            strict_map_key=False,
            object_pairs_hook=_js_object,
            list_hook=_plain_list,
            ext_hook=_refuse_ext,
        )
    except UnpackError:
        raise
    except Exception as cause:
        raise UnpackError(f"not valid msgpack: {cause}") from cause
    if type(value) is msgpack.Timestamp:
        raise UnpackError("msgpack extension type -1 (timestamp) is not plain data")
    return value


def _refuse_ext(code: int, _data: bytes) -> Any:
    raise UnpackError(f"msgpack extension type {code} is not plain data")


def _plain_list(items: list[Any]) -> list[Any]:
    if msgpack.Timestamp in set(map(type, items)):
        raise UnpackError("msgpack extension type -1 (timestamp) is not plain data")
    return items


def _js_object(pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if type(value) is msgpack.Timestamp:
            raise UnpackError("msgpack extension type -1 (timestamp) is not plain data")
        result[key if type(key) is str else _key_string(key)] = value
    return result


def _key_string(key: object) -> str:
    """The property name JavaScript makes of a non-string map key (msgpackr's rule)."""
    if key is None:
        return "null"
    if key is True:
        return "true"
    if key is False:
        return "false"
    if isinstance(key, (int, float)):
        return js_number_string(float(key))
    raise UnpackError(f"a map key of type {type(key).__name__} has no property name")


def js_number_string(value: float) -> str:
    """``String(value)`` as JavaScript writes a number."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value < 0:
        return "-" + js_number_string(-value)
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # value = 0.<digits> * 10**point
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        return digits + "0" * (point - count)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    power = point - 1
    head = digits[0] + ("." + digits[1:] if count > 1 else "")
    return f"{head}e{'+' if power >= 0 else '-'}{abs(power)}"

