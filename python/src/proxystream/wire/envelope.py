"""The event envelope, byte for byte as ``src/wire/envelope.ts`` writes and reads it.

An event is the msgpack array ``[version, kind, id, topic, timestamp, metadata, payload, key?]``;
the payload field is ``[0, codec, data]`` (inline), ``[1, codec, storeId, size, checksum, refKey?]``
(a ref; the key is left out when it equals the event id) or nil (end of stream).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard, Union

from ..errors import LimitExceededError, MalformedEventError
from . import msgpack_js
from .codecs import CODEC_IDS, CODEC_NAMES, CodecName
from .ids import EVENT_ID_BYTES, id_from_string, id_to_string
from .metadata import Metadata, MetadataLimits, metadata_problem

WIRE_VERSION = 1
"""Version of the envelope written here; decoding rejects any other."""

_KIND_DATA = 0
_KIND_END = 1
_PAYLOAD_INLINE = 0
_PAYLOAD_REF = 1
_MAX_SAFE_INTEGER = 2**53 - 1
_CHECKSUM = re.compile(r"[0-9a-f]{16}")

Buffer = Union[bytes, bytearray, memoryview]


@dataclass(frozen=True)
class WireLimits(MetadataLimits):
    """Limits enforced on encode and decode."""

    max_event_bytes: int = 16 * 1024 * 1024
    """Largest encoded event accepted."""
    max_name_length: int = 256
    """Longest topic, store id, key and ref key, in UTF-16 code units (JavaScript string length)."""


DEFAULT_WIRE_LIMITS = WireLimits()


@dataclass(frozen=True)
class InlinePayload:
    """A payload carried inside the event."""

    codec: CodecName
    data: bytes


@dataclass(frozen=True)
class RefPayload:
    """A payload held in a store: the event carries where it is and how to check it."""

    store_id: str
    key: str
    size: int
    checksum: str
    """xxh64 of the stored bytes, 16 lowercase hex digits."""
    codec: CodecName


Payload = Union[InlinePayload, RefPayload]


@dataclass(frozen=True)
class EventFields:
    """What :func:`encode_event` needs; ``id_bytes`` are the 16 raw id bytes."""

    kind: Literal["data", "end"]
    id_bytes: bytes
    topic: str
    timestamp: float
    """Producer clock, ms since the epoch."""
    metadata: Metadata = field(default_factory=dict)
    key: str | None = None
    """Partitioning / ordering key."""
    payload: Payload | None = None


@dataclass(frozen=True)
class StreamEvent:
    """A decoded event: a data item (with a payload) or the end-of-stream marker of its topic."""

    version: int
    kind: Literal["data", "end"]
    id: str
    """22 base64url characters of a random 128-bit id."""
    topic: str
    timestamp: float
    metadata: Metadata
    key: str | None = None
    payload: Payload | None = None

    def fields(self) -> EventFields:
        """The fields that encode this event again."""
        id_bytes = id_from_string(self.id)
        if id_bytes is None:
            raise MalformedEventError(f"event id {self.id!r} is not 22 base64url characters")
        return EventFields(self.kind, id_bytes, self.topic, self.timestamp, self.metadata, self.key, self.payload)


def encode_event(event: EventFields, limits: WireLimits = DEFAULT_WIRE_LIMITS) -> bytes:
    """Encodes an event. Raises :class:`LimitExceededError` when it breaks a limit."""
    context = {"topic": event.topic if isinstance(event.topic, str) else None}
    problem = metadata_problem(event.metadata, limits)
    if problem is not None:
        raise LimitExceededError(problem, context=context)
    if len(event.id_bytes) != EVENT_ID_BYTES:
        raise MalformedEventError(f"event id must be {EVENT_ID_BYTES} bytes", context=context)
    event_id = id_to_string(event.id_bytes)
    fields: list[Any] = [
        WIRE_VERSION,
        _KIND_END if event.kind == "end" else _KIND_DATA,
        bytes(event.id_bytes),
        event.topic,
        event.timestamp,
        event.metadata,
        _payload_field(event.payload, event_id),
    ]
    if event.key is not None:
        fields.append(event.key)
    try:
        encoded = msgpack_js.pack(fields)
    except msgpack_js.PackError as cause:
        raise LimitExceededError(f"event cannot be encoded: {cause}", context=context) from cause
    if len(encoded) > limits.max_event_bytes:
        raise LimitExceededError(
            f"event of {len(encoded)} bytes exceeds maxEventBytes {limits.max_event_bytes}", context=context
        )
    return encoded


def _payload_field(payload: Payload | None, event_id: str) -> list[Any] | None:
    if payload is None:
        return None
    if isinstance(payload, InlinePayload):
        return [_PAYLOAD_INLINE, CODEC_IDS[payload.codec], payload.data]
    if _CHECKSUM.fullmatch(payload.checksum) is None:
        raise MalformedEventError(f"ref checksum {payload.checksum!r} is not 16 lowercase hex digits")
    fields: list[Any] = [_PAYLOAD_REF, CODEC_IDS[payload.codec], payload.store_id, payload.size]
    fields.append(bytes.fromhex(payload.checksum))
    if payload.key != event_id:
        fields.append(payload.key)
    return fields


def decode_event(data: Buffer, limits: WireLimits = DEFAULT_WIRE_LIMITS) -> StreamEvent:
    """Decodes and validates an event.

    Bytes that are not a valid event of this version, or that break a limit, raise
    :class:`MalformedEventError`; nothing else is raised.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedEventError("event is not bytes")
    size = memoryview(data).nbytes
    if size > limits.max_event_bytes:
        raise MalformedEventError(f"event of {size} bytes exceeds maxEventBytes {limits.max_event_bytes}")
    try:
        decoded = msgpack_js.unpack(data)
    except msgpack_js.UnpackError as cause:
        raise MalformedEventError("event is not valid msgpack") from cause
    return _validate(decoded, limits)


def _validate(decoded: object, limits: WireLimits) -> StreamEvent:
    if not isinstance(decoded, list) or not 7 <= len(decoded) <= 8:
        raise MalformedEventError("event is not an envelope array")
    version, kind, id_bytes, topic, timestamp, metadata, payload_field = decoded[:7]
    key = decoded[7] if len(decoded) == 8 else None
    if not _is_number(version) or version != WIRE_VERSION:
        raise MalformedEventError(f"unsupported event version {version}; this reader speaks {WIRE_VERSION}")
    if not _is_number(kind) or kind not in (_KIND_DATA, _KIND_END):
        raise MalformedEventError("unknown event kind")
    if not isinstance(id_bytes, bytes) or len(id_bytes) != EVENT_ID_BYTES:
        raise MalformedEventError("event id must be 16 bytes")
    _check_name(topic, "topic", limits)
    if not _is_number(timestamp) or not math.isfinite(timestamp) or timestamp < 0:
        raise MalformedEventError("timestamp must be a non-negative number")
    problem = metadata_problem(metadata, limits)
    if problem is not None:
        raise MalformedEventError(problem)
    if len(decoded) == 8:
        _check_name(key, "key", limits)
    event_id = id_to_string(id_bytes)
    is_end = kind == _KIND_END
    payload: Payload | None = None
    if not is_end:
        payload = _validate_payload(payload_field, event_id, limits)
    elif payload_field is not None:
        raise MalformedEventError("an end-of-stream event carries no payload")
    return StreamEvent(
        version=WIRE_VERSION,
        kind="end" if is_end else "data",
        id=event_id,
        topic=topic,
        timestamp=timestamp,
        metadata=metadata,
        key=key,
        payload=payload,
    )


def _validate_payload(field_value: object, event_id: str, limits: WireLimits) -> Payload:
    if not isinstance(field_value, list):
        raise MalformedEventError("a data event needs a payload")
    payload_type = field_value[0] if len(field_value) > 0 else None
    codec_id = field_value[1] if len(field_value) > 1 else None
    codec = _codec(codec_id)
    if codec is None:
        raise MalformedEventError(f"unknown payload codec {codec_id}")
    if _is_number(payload_type) and payload_type == _PAYLOAD_INLINE:
        data = field_value[2] if len(field_value) > 2 else None
        if len(field_value) != 3 or not isinstance(data, bytes):
            raise MalformedEventError("inline payload must carry bytes")
        return InlinePayload(codec=codec, data=data)
    if not _is_number(payload_type) or payload_type != _PAYLOAD_REF or not 5 <= len(field_value) <= 6:
        raise MalformedEventError("payload is neither inline nor ref")
    store_id, size, checksum_bytes = field_value[2:5]
    _check_name(store_id, "store id", limits)
    if not _is_number(size) or not _is_safe_integer(size) or size < 0:
        raise MalformedEventError("ref size must be a non-negative integer")
    if not isinstance(checksum_bytes, bytes) or len(checksum_bytes) != 8:
        raise MalformedEventError("ref checksum must be 8 bytes")
    ref_key = event_id
    if len(field_value) == 6:
        ref_key = field_value[5]
        _check_name(ref_key, "ref key", limits)
    return RefPayload(store_id=store_id, key=ref_key, size=int(size), checksum=checksum_bytes.hex(), codec=codec)


def _codec(codec_id: object) -> CodecName | None:
    if not _is_number(codec_id) or not _is_safe_integer(codec_id) or not 0 <= codec_id < len(CODEC_NAMES):
        return None
    return CODEC_NAMES[int(codec_id)]


def _check_name(value: object, what: str, limits: WireLimits) -> None:
    if not isinstance(value, str) or not 0 < js_length(value) <= limits.max_name_length:
        raise MalformedEventError(f"{what} must be a string of 1 to {limits.max_name_length} characters")


def js_length(text: str) -> int:
    """The length JavaScript gives ``text``: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _is_number(value: object) -> TypeGuard[float]:
    return type(value) is int or type(value) is float


def _is_safe_integer(value: float) -> bool:
    if type(value) is float and not value.is_integer():
        return False
    return abs(value) <= _MAX_SAFE_INTEGER
