"""Stores that hold payloads by key, with the same layouts and lifetimes as the TypeScript stores."""

from .file_store import FileStore
from .keys import assert_valid_key
from .lifetime import Lifetime, lifetime
from .policy import StorePolicy, store_by_size, store_by_topic
from .redis import RedisStore, StoreStats
from .types import Store

__all__ = ["FileStore", "Lifetime", "RedisStore", "Store", "StorePolicy", "StoreStats", "assert_valid_key", "lifetime", "store_by_size", "store_by_topic"]
