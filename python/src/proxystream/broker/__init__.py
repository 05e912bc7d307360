"""Brokers: publishers and subscribers that move events, byte for byte as the TypeScript adapters."""

from .redis_streams import RedisStreamsBroker, RedisStreamsPublisher, RedisStreamsSubscriber
from .types import Delivery, OutgoingMessage, Publisher, Subscriber

__all__ = [
    "Delivery",
    "OutgoingMessage",
    "Publisher",
    "RedisStreamsBroker",
    "RedisStreamsPublisher",
    "RedisStreamsSubscriber",
    "Subscriber",
]
