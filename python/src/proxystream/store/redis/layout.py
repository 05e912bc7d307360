"""The Redis keys of one object, as ``src/store/redis/layout.ts``.

All share the hash tag ``{<key>}``, so they live in one Cluster slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectKeys:
    meta: str
    """Hash: size, chunks, chunkBytes, readers (JSON), ttlMs. Written last on put."""
    released: str
    """Set of reader groups that released the object."""
    chunk_prefix: str
    """Chunk ``i`` is ``f"{chunk_prefix}{i}"``."""


def object_keys(prefix: str, key: str) -> ObjectKeys:
    """Keys of the object ``key`` under ``prefix``."""
    base = f"{prefix}:{{{key}}}"
    return ObjectKeys(meta=f"{base}:m", released=f"{base}:r", chunk_prefix=f"{base}:c:")


def meta_pattern(prefix: str) -> str:
    """SCAN pattern that matches every meta hash under ``prefix``."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + ":{*}:m"


def chunk_count(size: int, chunk_bytes: int) -> int:
    """Chunks an object of ``size`` bytes takes (at least one, so an empty object has a chunk)."""
    return max(1, -(-size // chunk_bytes))
