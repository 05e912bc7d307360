"""The Redis store."""

from .redis_store import DEFAULT_CHUNK_BYTES, RedisStore, StoreStats

__all__ = ["DEFAULT_CHUNK_BYTES", "RedisStore", "StoreStats"]
