"""Dead-letter records, byte for byte as ``src/wire/dead-letter.ts`` writes and reads them.

A record is a msgpack map whose first entry is ``t: 'ps-dead-letter/<version>'``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Union

from ..errors import MalformedEventError
from . import msgpack_js

DEAD_LETTER_VERSION = 2
"""Version of the record written here; decoding rejects any other."""
DEFAULT_MAX_DELIVERIES = 10
"""Deliveries after which a message is dead-lettered instead of delivered again."""

_TAG_STEM = "ps-dead-letter/"
_TAG = f"{_TAG_STEM}{DEAD_LETTER_VERSION}"
_MAP_HEADER_BYTES = {0xDE: 3, 0xDF: 5}
_TAG_KEY = bytes((0xA1, 0x74))
_STEM = _TAG_STEM.encode()

Buffer = Union[bytes, bytearray, memoryview]


@dataclass(frozen=True)
class DeadLetter:
    """A message that could not be processed, with why. Replaying it means publishing ``original`` to ``topic`` with ``key``."""

    topic: str
    position: str
    """Broker position of the original message on ``topic``."""
    group: str
    """Consumer group that gave up on it."""
    delivery_count: int
    code: str
    """Error code (a proxystream code, or ``PS_HANDLER`` for user errors and messages nobody acked)."""
    message: str
    failed_at: float
    """ms since the epoch."""
    original: bytes
    """The original message bytes."""
    attempts: int | None = None
    """Handler attempts in the delivery that gave up, where any were made."""
    key: str | None = None
    """The original message's partition/ordering key."""


@dataclass(frozen=True)
class FailedMessage:
    """The message a dead letter is made from, as its group read it."""

    topic: str
    position: str
    delivery_count: int
    group: str
    value: bytes
    key: str | None = None


def encode_dead_letter(letter: DeadLetter) -> bytes:
    """Encodes a dead letter as a msgpack map tagged ``t`` first."""
    record: dict[str, Any] = {
        "t": _TAG,
        "topic": letter.topic,
        "position": letter.position,
        "group": letter.group,
        "deliveryCount": letter.delivery_count,
        "code": letter.code,
        "message": letter.message,
        "failedAt": letter.failed_at,
        "original": letter.original,
    }
    if letter.attempts is not None:
        record["attempts"] = letter.attempts
    if letter.key is not None:
        record["key"] = letter.key
    return msgpack_js.pack(record)


def dead_letter_message(failed: FailedMessage, code: str, message: str, attempts: int | None = None) -> tuple[bytes, str | None]:
    """The encoded dead letter of ``failed``, failing now with ``code`` and ``message``, and the key to publish it with."""
    letter = DeadLetter(
        topic=failed.topic,
        position=failed.position,
        group=failed.group,
        delivery_count=failed.delivery_count,
        code=code,
        message=message,
        failed_at=int(time.time() * 1000),
        original=failed.value,
        attempts=attempts,
        key=failed.key,
    )
    return encode_dead_letter(letter), failed.key


def is_dead_letter(data: Buffer) -> bool:
    """True when ``data`` is tagged as a dead letter of any version (a check of its first bytes)."""
    view = memoryview(data).cast("B")
    first = view[0] if len(view) > 0 else 0
    key = 1 if first & 0xF0 == 0x80 else _MAP_HEADER_BYTES.get(first, 0)
    tag = key + len(_TAG_KEY) + 1
    if key == 0 or len(view) < tag + len(_STEM) or view[tag - 1] & 0xE0 != 0xA0:
        return False
    return bytes(view[key : key + len(_TAG_KEY)]) == _TAG_KEY and bytes(view[tag : tag + len(_STEM)]) == _STEM


def decode_dead_letter(data: Buffer) -> DeadLetter:
    """Decodes a dead letter; anything else raises :class:`MalformedEventError`."""
    try:
        decoded = msgpack_js.unpack(data)
    except msgpack_js.UnpackError as cause:
        raise MalformedEventError("dead letter is not valid msgpack") from cause
    record: dict[str, Any] = decoded if isinstance(decoded, dict) else {}
    tag = record.get("t")
    if not isinstance(tag, str) or not tag.startswith(_TAG_STEM):
        raise MalformedEventError("not a proxystream dead letter")
    if tag != _TAG:
        raise MalformedEventError(
            f"unsupported dead-letter version {tag[len(_TAG_STEM):]}; this reader speaks {DEAD_LETTER_VERSION}"
        )
    return DeadLetter(
        topic=_field(record, "topic", "string"),
        position=_field(record, "position", "string"),
        group=_field(record, "group", "string"),
        delivery_count=_field(record, "deliveryCount", "number"),
        code=_field(record, "code", "string"),
        message=_field(record, "message", "string"),
        failed_at=_field(record, "failedAt", "number"),
        original=_field(record, "original", "bytes"),
        attempts=_field(record, "attempts", "number") if "attempts" in record else None,
        key=_field(record, "key", "string") if "key" in record else None,
    )


def _is_string(value: object) -> bool:
    return isinstance(value, str)


def _is_count(value: object) -> bool:
    return (type(value) is int or type(value) is float) and math.isfinite(value) and value >= 0


def _is_bytes(value: object) -> bool:
    return isinstance(value, bytes)


_FIELD_CHECKS: dict[str, tuple[str, Callable[[object], bool]]] = {
    "string": ("a string", _is_string),
    "number": ("a non-negative number", _is_count),
    "bytes": ("bytes", _is_bytes),
}


def _field(record: dict[str, Any], name: str, kind: str) -> Any:
    what, check = _FIELD_CHECKS[kind]
    value = record.get(name)
    if not check(value):
        raise MalformedEventError(f"dead letter field {name} must be {what}")
    return value
