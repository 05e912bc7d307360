"""The Redis Streams adapter, compatible with ``src/broker-adapters/redis-streams/``."""

from .broker import RedisStreamsBroker
from .options import RedisStreamsOptions
from .publisher import RedisStreamsPublisher
from .subscriber import RedisStreamsSubscriber

__all__ = ["RedisStreamsBroker", "RedisStreamsOptions", "RedisStreamsPublisher", "RedisStreamsSubscriber"]
