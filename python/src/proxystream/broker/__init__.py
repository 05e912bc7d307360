"""Brokers: publishers and subscribers that move events, byte for byte as the TypeScript adapters."""

from .kafka import KafkaBroker, KafkaOptions, KafkaPublisher
from .kafka_subscriber import KafkaSubscriber
from .redis_streams import RedisStreamsBroker, RedisStreamsPublisher, RedisStreamsSubscriber
from .types import Delivery, OutgoingMessage, Publisher, Subscriber
from .zmq import ZmqBroker, ZmqOptions, ZmqPublisher, ZmqSubscriber

__all__ = [
    "Delivery",
    "KafkaBroker",
    "KafkaOptions",
    "KafkaPublisher",
    "KafkaSubscriber",
    "OutgoingMessage",
    "Publisher",
    "RedisStreamsBroker",
    "RedisStreamsPublisher",
    "RedisStreamsSubscriber",
    "Subscriber",
    "ZmqBroker",
    "ZmqOptions",
    "ZmqPublisher",
    "ZmqSubscriber",
]
