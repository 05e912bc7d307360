"""Payload checksum: xxHash64, seed 0, as 16 lowercase hex digits (as ``src/wire/checksum.ts``)."""

from __future__ import annotations

from typing import Iterable, Union

import xxhash

Buffer = Union[bytes, bytearray, memoryview]
CHECKSUM_ALGORITHM = "xxh64"


def checksum(parts: Buffer | Iterable[Buffer]) -> str:
    """xxh64 of the bytes (or of the parts one after another)."""
    hasher = xxhash.xxh64(seed=0)
    if isinstance(parts, (bytes, bytearray, memoryview)):
        hasher.update(parts)
    else:
        for part in parts:
            hasher.update(part)
    return hasher.hexdigest()
