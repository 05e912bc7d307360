"""Store policies: which store a producer puts one payload in, as ``src/producer/store-policy.ts``."""

from __future__ import annotations

from typing import Callable, Mapping

from .. import errors
from .types import Store

StorePolicy = Callable[[str, int], Store]
"""Picks the store for one payload from its topic and encoded size (as ProxyStore's MultiConnector does)."""


def store_by_size(small: Store, large: Store, min_bytes: int) -> StorePolicy:
    """A policy that puts payloads of at least ``min_bytes`` (encoded) in ``large`` and the rest in ``small``,
    for example a ``FileStore`` on /dev/shm for most payloads and a ``RedisStore`` for the largest."""
    if isinstance(min_bytes, bool) or not isinstance(min_bytes, int) or min_bytes < 0:
        raise errors.ConfigError("store_by_size min_bytes must be a non-negative integer")
    return lambda _topic, size: large if size >= min_bytes else small


def store_by_topic(by_topic: Mapping[str, Store], fallback: Store) -> StorePolicy:
    """A policy that picks a store per topic, and ``fallback`` for any other topic."""
    stores = dict(by_topic)
    return lambda topic, _size: stores.get(topic, fallback)
