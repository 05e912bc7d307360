"""proxystream for Python: the same wire and stores as the TypeScript engine, byte for byte.

Events are small msgpack records (a ref plus metadata); payloads live in a store. See ``docs/python.md``.
``ConnectionError`` and ``TimeoutError`` keep their TypeScript names; they are left out of ``__all__`` so that
``from proxystream import *`` does not hide Python's built-in exceptions of those names.
"""

from .errors import (
    AbortedError,
    ClosedError,
    CodecError,
    ConfigError,
    ConnectionError,
    CorruptPayloadError,
    ErrorCodes,
    HandlerError,
    InvalidKeyError,
    LimitExceededError,
    MalformedEventError,
    MissingDependencyError,
    MissingPayloadError,
    ProxyStreamError,
    PublishError,
    TimeoutError,
    UnknownStoreError,
    is_proxystream_error,
)
from .aio import AsyncStreamConsumer, AsyncStreamItem, AsyncStreamProducer
from .broker import Delivery, KafkaBroker, KafkaOptions, OutgoingMessage, Publisher, RedisStreamsBroker, Subscriber, ZmqBroker, ZmqOptions
from .broker.redis_streams import RedisStreamsOptions
from .consumer import ConsumerStats, StreamConsumer, StreamItem
from .producer import DEFAULT_INLINE_THRESHOLD, PayloadLifetime, ProducerStats, SendResult, StreamProducer
from .proxy import Ref, StoreRegistry
from .store import FileStore, RedisStore, Store, StorePolicy, StoreStats, store_by_size, store_by_topic
from .wire import (
    EventFields,
    InlinePayload,
    RefPayload,
    StreamEvent,
    WireLimits,
    checksum,
    decode_event,
    decode_payload,
    encode_event,
    encode_payload,
)

__all__ = [
    "DEFAULT_INLINE_THRESHOLD",
    "AbortedError",
    "AsyncStreamConsumer",
    "AsyncStreamItem",
    "AsyncStreamProducer",
    "ClosedError",
    "CodecError",
    "ConfigError",
    "ConsumerStats",
    "CorruptPayloadError",
    "Delivery",
    "ErrorCodes",
    "EventFields",
    "FileStore",
    "HandlerError",
    "InlinePayload",
    "InvalidKeyError",
    "KafkaBroker",
    "KafkaOptions",
    "LimitExceededError",
    "MalformedEventError",
    "MissingDependencyError",
    "MissingPayloadError",
    "OutgoingMessage",
    "PayloadLifetime",
    "ProducerStats",
    "ProxyStreamError",
    "PublishError",
    "Publisher",
    "RedisStore",
    "RedisStreamsBroker",
    "RedisStreamsOptions",
    "Ref",
    "RefPayload",
    "Store",
    "StorePolicy",
    "StoreRegistry",
    "SendResult",
    "StoreStats",
    "StreamConsumer",
    "StreamEvent",
    "StreamItem",
    "StreamProducer",
    "Subscriber",
    "UnknownStoreError",
    "WireLimits",
    "ZmqBroker",
    "ZmqOptions",
    "checksum",
    "decode_event",
    "decode_payload",
    "encode_event",
    "encode_payload",
    "is_proxystream_error",
    "store_by_size",
    "store_by_topic",
]
