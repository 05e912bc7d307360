"""What the publishers and subscribers of one broker share: options, the command connection, key names."""

from __future__ import annotations

from typing import Callable, TypeVar

import redis

from ...redis_client import connection_error, open_redis
from .options import RedisStreamsOptions

T = TypeVar("T")


class StreamsContext:
    """Options, the command connection (thread-safe: a pool) and the key names of one broker."""

    def __init__(self, options: RedisStreamsOptions) -> None:
        self.options = options
        self.commands = self.connect()
        kwargs = self.commands.connection_pool.connection_kwargs
        self.address = f"{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}"

    def connect(self) -> redis.Redis:
        """A new client (subscribers block on their own)."""
        return open_redis(self.options.url, self.options.connect_timeout_ms)

    def stream(self, topic: str) -> str:
        return f"{self.options.stream_prefix}{topic}"

    def eos_key(self, topic: str) -> str:
        """Hash beside a stream recording its end-of-stream entry: id, v (value), k (key)."""
        return f"{self.stream(topic)}:ps-eos"

    def dead_letter(self, topic: str) -> str:
        return self.stream(self.options.dead_letter_stream(topic))

    def run(self, operation: Callable[[], T]) -> T:
        """Runs ``operation``, raising ``ConnectionError`` (context ``address``) when Redis is unreachable."""
        try:
            return operation()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as cause:
            raise connection_error(self.address, cause) from cause
