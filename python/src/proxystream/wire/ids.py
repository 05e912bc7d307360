"""Event ids: 16 random bytes, written as 22 base64url characters (as ``src/wire/ids.ts``)."""

from __future__ import annotations

import base64
import os
import re

EVENT_ID_BYTES = 16
_ID_TEXT = re.compile(r"[A-Za-z0-9_-]{22}")


def new_id_bytes() -> bytes:
    """A new random 128-bit event id as raw bytes."""
    return os.urandom(EVENT_ID_BYTES)


def id_to_string(id_bytes: bytes) -> str:
    """The text form of an event id: base64url without padding, safe as a store key and a file name."""
    return base64.urlsafe_b64encode(id_bytes).rstrip(b"=").decode("ascii")


def id_from_string(text: str) -> bytes | None:
    """The bytes of a 22-character id, or None when ``text`` is not one."""
    if not isinstance(text, str) or _ID_TEXT.fullmatch(text) is None:
        return None
    decoded = base64.urlsafe_b64decode(text + "==")
    return decoded if len(decoded) == EVENT_ID_BYTES else None
