"""Options of the Redis Streams adapter, with the defaults of ``src/broker-adapters/redis-streams/options.ts``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...errors import ConfigError
from ...wire import DEFAULT_MAX_DELIVERIES


def _dead_letter_stream(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True)
class RedisStreamsOptions:
    """How a :class:`RedisStreamsBroker` talks to Redis.

    Attributes:
        url: Server to connect to. Default ``redis://127.0.0.1:6379``.
        stream_prefix: Prefix of every stream key: topic ``t`` lives in stream ``<stream_prefix>t``. Default ``''``.
        max_len: Approximate cap on entries per stream (``XADD MAXLEN ~``), read or not. Default: no cap.
        trim_acked: Trim what every group is done with: after its acks, each subscriber trims its streams (at
            most once a second per stream, once more at the end of that second and on close) below the oldest
            entry some consumer group still needs (its oldest pending entry, or its last delivered one),
            keeping the end-of-stream entry; entries a group existing at that moment has not acked stay, and a
            group made later starts at what is left. Default False (the stream keeps every entry), as
            ``trimAcked`` in TypeScript.
        block_ms: How long one XREADGROUP waits for new entries. Default 1000.
        batch_size: Entries read or claimed per call. Default 128.
        visibility_timeout_ms: An unacked entry goes to another consumer after this long. Default 30000.
        max_deliveries: Deliveries after which an entry goes to the dead-letter stream instead, as a
            dead-letter record. Default 10 (``DEFAULT_MAX_DELIVERIES``).
        dead_letter_stream: Dead-letter topic of a topic. Default ``<topic>.dlq``.
        connect_timeout_ms: How long to wait for the server before raising ``ConnectionError``. Default 5000.
    """

    url: str = "redis://127.0.0.1:6379"
    stream_prefix: str = ""
    max_len: int | None = None
    trim_acked: bool = False
    block_ms: int = 1_000
    batch_size: int = 128
    visibility_timeout_ms: int = 30_000
    max_deliveries: int = DEFAULT_MAX_DELIVERIES
    dead_letter_stream: Callable[[str], str] = _dead_letter_stream
    connect_timeout_ms: int = 5_000

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url:
            raise ConfigError("RedisStreamsBroker url must be a non-empty string")
        if not isinstance(self.stream_prefix, str):
            raise ConfigError("RedisStreamsBroker stream_prefix must be a string")
        for name in ("block_ms", "batch_size", "visibility_timeout_ms", "max_deliveries", "connect_timeout_ms"):
            _check_positive(name, getattr(self, name))
        if self.max_len is not None:
            _check_positive("max_len", self.max_len)
        if not isinstance(self.trim_acked, bool):
            raise ConfigError("RedisStreamsBroker trim_acked must be True or False")
        if not callable(self.dead_letter_stream):
            raise ConfigError("RedisStreamsBroker dead_letter_stream must be a function of the topic")


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"RedisStreamsBroker {name} must be a positive integer")
