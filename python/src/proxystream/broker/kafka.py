"""The Kafka adapter on confluent-kafka, compatible with ``src/broker-adapters/kafka/``.

confluent-kafka is an optional dependency (``pip install 'proxystream[kafka]'``; its wheels carry
librdkafka). This module imports without it; making a :class:`KafkaBroker` raises
:class:`~proxystream.errors.MissingDependencyError` when it is missing. The subscriber lives in
``kafka_subscriber.py``; the commit notes and offset bookkeeping it shares with TypeScript in ``kafka_state.py``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .. import errors
from ..wire import DEFAULT_MAX_DELIVERIES
from .base import BrokerBase, parse_options
from .kafka_state import EOS_HEADER, parse_offset_spec
from .kafka_subscriber import KafkaSubscriber
from .types import OutgoingMessage

LOGGER = logging.getLogger("proxystream.kafka")
"""Where librdkafka's log lines go (instead of stderr)."""


def confluent() -> Any:
    """The ``confluent_kafka`` module, or :class:`MissingDependencyError` naming the package to install."""
    try:
        import confluent_kafka
        import confluent_kafka.admin  # a submodule the package does not import itself
    except ImportError as cause:
        raise errors.MissingDependencyError(
            "the Kafka broker needs confluent-kafka: pip install 'proxystream[kafka]' (or confluent-kafka)",
            context={"package": "confluent-kafka"},
        ) from cause
    return confluent_kafka


def _dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True)
class KafkaOptions:
    """How a :class:`KafkaBroker` talks to Kafka, with the defaults of ``src/broker-adapters/kafka/options.ts``.

    Attributes:
        brokers: Bootstrap brokers, ``host:port`` (a list, or one comma-separated string). Default ``127.0.0.1:9092``.
        client_id: Client id sent to the brokers. Default ``proxystream``.
        partitions: Partitions of topics the adapter creates on demand. Default 1.
        replication_factor: Replication factor of topics the adapter creates on demand. Default 1.
        session_timeout_ms: A member silent this long is dropped and its partitions move. Default 10000.
        heartbeat_interval_ms: Heartbeat interval of group members. Default 1000.
        max_poll_interval_ms: Longest time between two reads of a subscriber (librdkafka's
            ``max.poll.interval.ms``, also its rebalance timeout) before it leaves the group. Default 300000.
        max_deliveries: Deliveries after which a message goes to the dead-letter topic instead, as a
            dead-letter record. Default 10 (``DEFAULT_MAX_DELIVERIES``).
        dead_letter_topic: Dead-letter topic of a topic. Default ``<topic>.dlq``.
        connect_timeout_ms: Bound on reaching the brokers before ``ConnectionError``. Default 5000.
        buffer_size: Messages a subscriber takes from librdkafka at a time. Default 256.
        max_wait_time_ms: Longest time one fetch (and one read of the subscriber) waits for new messages. Default 500.
        end_of_stream_poll_ms: How often a subscriber checks its group's end-of-stream state. Default 500.
        config: Further librdkafka properties for every client (TLS, SASL...), e.g.
            ``{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", ...}``.
    """

    brokers: str | Sequence[str] = "127.0.0.1:9092"
    client_id: str = "proxystream"
    partitions: int = 1
    replication_factor: int = 1
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    max_poll_interval_ms: int = 300_000
    max_deliveries: int = DEFAULT_MAX_DELIVERIES
    dead_letter_topic: Callable[[str], str] = _dead_letter_topic
    connect_timeout_ms: int = 5_000
    buffer_size: int = 256
    max_wait_time_ms: int = 500
    end_of_stream_poll_ms: int = 500
    config: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        brokers = [self.brokers] if isinstance(self.brokers, str) else list(self.brokers)
        if not brokers or not all(isinstance(broker, str) and broker.strip() for broker in brokers):
            raise errors.ConfigError("KafkaBroker brokers must be one or more 'host:port' strings")
        if not isinstance(self.client_id, str) or not self.client_id:
            raise errors.ConfigError("KafkaBroker client_id must be a non-empty string")
        for name in (
            "partitions",
            "replication_factor",
            "session_timeout_ms",
            "heartbeat_interval_ms",
            "max_poll_interval_ms",
            "max_deliveries",
            "connect_timeout_ms",
            "buffer_size",
            "max_wait_time_ms",
            "end_of_stream_poll_ms",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise errors.ConfigError(f"KafkaBroker {name} must be a positive integer")
        if not callable(self.dead_letter_topic):
            raise errors.ConfigError("KafkaBroker dead_letter_topic must be a function of the topic")
        if not isinstance(self.config, Mapping):
            raise errors.ConfigError("KafkaBroker config must be a mapping of librdkafka properties")

    @property
    def bootstrap(self) -> str:
        """The bootstrap brokers as one comma-separated string."""
        brokers = [self.brokers] if isinstance(self.brokers, str) else list(self.brokers)
        return ",".join(broker.strip() for broker in brokers)


class KafkaContext:
    """What the publishers and subscribers of one broker share: options, one admin client, topics created."""

    def __init__(self, options: KafkaOptions) -> None:
        self.options = options
        self.kafka = confluent()
        self.address = options.bootstrap
        self.admin = self.make(self.kafka.admin.AdminClient, self.client_config())
        self._created: set[str] = set()
        self._lock = threading.Lock()

    def client_config(self, **extra: Any) -> dict[str, Any]:
        """librdkafka properties of a new client: the brokers, client id, connect bound and ``options.config``."""
        options = self.options
        return {
            "bootstrap.servers": self.address,
            "client.id": options.client_id,
            "socket.connection.setup.timeout.ms": max(1_000, options.connect_timeout_ms),
            "logger": LOGGER,
            **extra,
            **dict(options.config),
        }

    def make(self, client: Callable[[dict[str, Any]], Any], config: dict[str, Any]) -> Any:
        """A new librdkafka client; ``ConfigError`` when librdkafka refuses its properties."""
        try:
            return client(config)
        except self.kafka.KafkaException as cause:
            raise errors.ConfigError(f"KafkaBroker: librdkafka refused the configuration: {cause.args[0].str()}") from cause

    @property
    def timeout(self) -> float:
        """``connect_timeout_ms`` in seconds, the bound of a metadata or admin call."""
        return self.options.connect_timeout_ms / 1000

    def connection_error(self, cause: BaseException, what: str) -> errors.ConnectionError:
        return errors.ConnectionError(f"{what}: cannot reach Kafka at {self.address}: {cause}", context={"address": self.address})

    def partitions(self, topic: str) -> list[int]:
        """Partition ids of a topic, from fresh metadata (empty when it does not exist)."""
        try:
            # All topics: asking for one by name would have a broker with auto.create.topics.enable create it.
            metadata = self.admin.list_topics(timeout=self.timeout)
        except self.kafka.KafkaException as cause:
            raise self.connection_error(cause, f"metadata of {topic}") from cause
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            return []
        return sorted(found.partitions)

    def ensure_topics(self, topics: Sequence[str]) -> None:
        """Creates the topics that do not exist yet (``partitions``, ``replication_factor``), once per broker."""
        with self._lock:
            missing = [topic for topic in topics if topic not in self._created]
        if not missing:
            return
        try:
            existing = set(self.admin.list_topics(timeout=self.timeout).topics)
        except self.kafka.KafkaException as cause:
            raise self.connection_error(cause, f"create topics {', '.join(missing)}") from cause
        new = [topic for topic in missing if topic not in existing]
        if new:
            admin = self.kafka.admin
            futures = self.admin.create_topics(
                [admin.NewTopic(topic, self.options.partitions, self.options.replication_factor) for topic in new],
                operation_timeout=self.timeout,
                request_timeout=self.timeout,
            )
            for topic, future in futures.items():
                try:
                    future.result()
                except self.kafka.KafkaException as cause:
                    if cause.args[0].code() != self.kafka.KafkaError.TOPIC_ALREADY_EXISTS:
                        raise self.connection_error(cause, f"create topic {topic}") from cause
            self._await_leaders(new)
        with self._lock:
            self._created.update(missing)

    def _await_leaders(self, topics: Sequence[str]) -> None:
        """Waits (up to 5 s, best effort) until every partition of ``topics`` has a leader."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                found = self.admin.list_topics(timeout=self.timeout).topics
            except self.kafka.KafkaException:
                found = {}
            if all(
                topic in found and found[topic].partitions and all(p.leader >= 0 for p in found[topic].partitions.values())
                for topic in topics
            ):
                return
            time.sleep(0.1)

    def delete_topic(self, topic: str) -> bool:
        """Deletes a topic (records, and the groups' offsets and end notes on it); False when it did not exist."""
        if not self.partitions(topic):
            return False
        try:
            self.admin.delete_topics([topic], operation_timeout=self.timeout)[topic].result()
        except self.kafka.KafkaException as cause:
            if cause.args[0].code() == self.kafka.KafkaError.UNKNOWN_TOPIC_OR_PART:
                return False
            raise self.connection_error(cause, f"delete topic {topic}") from cause
        with self._lock:
            self._created.discard(topic)
        return True

    def lag(self, topic: str, group: str) -> int | None:
        """Messages of ``topic`` past ``group``'s commits, summed over partitions; None when the topic does not exist."""
        partitions = self.partitions(topic)
        if not partitions:
            return None
        kafka, admin = self.kafka, self.kafka.admin
        parts = [kafka.TopicPartition(topic, p) for p in partitions]
        try:
            bounds = [
                {tp.partition: future.result().offset for tp, future in self.admin.list_offsets({tp: spec for tp in parts}, request_timeout=self.timeout).items()}
                for spec in (admin.OffsetSpec.earliest(), admin.OffsetSpec.latest())
            ]
            request = [kafka.ConsumerGroupTopicPartitions(group, parts)]
            found = self.admin.list_consumer_group_offsets(request, request_timeout=self.timeout)[group].result().topic_partitions
        except kafka.KafkaException as cause:
            raise self.connection_error(cause, f"lag of {group} on {topic}") from cause
        commits = {tp.partition: tp.offset for tp in found}
        low, high = bounds
        lag: int = sum(max(0, high[p] - max(low[p], commits.get(p, -1))) for p in partitions)
        return lag

    def delete_group(self, group: str) -> None:
        """Deletes a consumer group (best effort)."""
        try:
            for future in self.admin.delete_consumer_groups([group], request_timeout=self.timeout).values():
                future.result()
        except self.kafka.KafkaException:
            pass


class KafkaPublisher:
    """An idempotent producer (acks all): keyed messages go where Java's and the TypeScript adapter's
    partitioner puts them (murmur2 of the UTF-8 key, librdkafka's ``murmur2_random``), keyless ones
    round-robin over the topic's partitions, and an end-of-stream message to every partition with the
    header ``ps-eos: 1`` (its value and key as given). Values and keys are the bytes published, as in
    ``kafka-publisher.ts``. Topics are created on demand. Publishes of one publisher are sent one after
    another, in call order; :meth:`publish` returns once Kafka acknowledged every record.
    """

    def __init__(self, context: KafkaContext, on_close: Callable[[KafkaPublisher], None]) -> None:
        self._context = context
        self._on_close = on_close
        self._producer: Any = None
        self._next: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._closed = False

    def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> None:
        """Sends ``messages`` to ``topic``; raises :class:`PublishError` when Kafka did not accept all of them."""
        if self._closed:
            raise errors.ClosedError("kafka publisher is closed", context={"topic": topic})
        if not messages:
            return
        with self._lock:
            context = self._context
            context.ensure_topics([topic])
            records = self._records(topic, messages)
            failures: list[Any] = []
            self._produce(topic, records, failures)
            if failures:
                first = failures[0]
                failed = errors.PublishError(
                    f"kafka publish to {topic} failed: {first.str()}",
                    context={"topic": topic, "address": context.address, "count": len(messages), "type": first.name()},
                )
                failed.retriable = bool(first.retriable())
                raise failed

    def _records(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[dict[str, Any]]:
        partitions = self._context.partitions(topic) if any(message.end_of_stream for message in messages) else []
        records: list[dict[str, Any]] = []
        for message in messages:
            value = bytes(message.value)
            key = None if message.key is None else message.key.encode("utf-8")
            if message.end_of_stream:
                for partition in partitions:
                    record: dict[str, Any] = {"value": value, "partition": partition, "headers": [(EOS_HEADER, b"1")]}
                    if key is not None:
                        record["key"] = key
                    records.append(record)
            elif key is not None:
                records.append({"value": value, "key": key})
            else:
                records.append({"value": value, "partition": self._round_robin(topic)})
        return records

    def _round_robin(self, topic: str) -> int:
        count = self._counts.get(topic)
        if count is None:
            count = max(1, len(self._context.partitions(topic)))
            self._counts[topic] = count
        counter = self._next.get(topic, 0)
        self._next[topic] = (counter + 1) % 0x7FFFFFFF
        return counter % count

    def _produce(self, topic: str, records: list[dict[str, Any]], failures: list[Any]) -> None:
        context = self._context
        if self._producer is None:
            self._producer = context.make(
                context.kafka.Producer,
                context.client_config(**{"enable.idempotence": True, "acks": "all", "partitioner": "murmur2_random", "linger.ms": 1}),
            )
        producer = self._producer

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                failures.append(error)

        for record in records:
            while True:
                try:
                    producer.produce(topic, on_delivery=delivered, **record)
                    break
                except BufferError:
                    producer.poll(0.05)
                except context.kafka.KafkaException as cause:
                    failures.append(cause.args[0])
                    break
        while producer.flush(1.0) > 0:
            pass

    def close(self) -> None:
        """Flushes and stops publishing. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            if self._producer is not None:
                self._producer.flush(self._context.timeout)
                self._producer = None
        self._on_close(self)

    def __enter__(self) -> KafkaPublisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class KafkaBroker(BrokerBase):
    """Kafka, on the same topics, records, partitions, headers and commit metadata as the TypeScript ``KafkaBroker``.

    Topics are created on demand with ``partitions`` and ``replication_factor``; groups are Kafka consumer
    groups (load-balanced within a group, every group reads every message); a subscriber without a group
    gets a private group from ``latest``, deleted on close.

    Guarantee: at-least-once. The publisher is idempotent (acks all). Offsets are committed by the
    adapter, only up to the first unacked message of each partition; what a member held unacked when it
    closed, died or lost a partition in a rebalance comes again from the committed offset to the new
    owner (``delivery_count`` >= 2, counted through the commit metadata as the TypeScript adapter does).
    A nacked message is delivered again by the same member while it owns the partition, and goes to
    the dead-letter topic after ``max_deliveries``. Order holds per key (one partition).

    End of stream: the end marker is written to every partition (header ``ps-eos: 1``). A member commits
    past a marker only when everything before it on that partition is acked, and records the marker in
    the commit's metadata (``ps1:{"e":..}``). Every member polls its group's committed offsets and yields
    end of stream once per topic when every partition's commit has passed its marker. Python and
    TypeScript publishers and groups interoperate; members of one group must all be Python or all
    TypeScript (librdkafka cannot offer the TypeScript clients' assignor name, ``RoundRobinAssigner``).

    Takes a :class:`KafkaOptions` or its fields as keywords (``KafkaBroker(brokers="127.0.0.1:9092", partitions=3)``).
    """

    _closed_message = "kafka broker is closed"

    def __init__(self, options: KafkaOptions | None = None, **fields: Any) -> None:
        super().__init__()
        self._context = KafkaContext(parse_options(KafkaOptions, options, fields, "KafkaBroker"))

    @property
    def options(self) -> KafkaOptions:
        return self._context.options

    def publisher(self) -> KafkaPublisher:
        """A new publisher."""
        self._assert_open()
        publisher = KafkaPublisher(self._context, self._clients.discard)
        self._track(publisher)
        return publisher

    def subscriber(
        self, topics: str | Sequence[str], group: str | None = None, *, start: str | Mapping[str, object] | None = None
    ) -> KafkaSubscriber:
        """A new member of ``group`` reading ``topics``; it joins the group on its first read.

        ``start`` is where partitions without a commit of the group are read from, as the TypeScript
        ``from``: ``'earliest'`` (the default for named groups), ``'latest'`` (the default of a private
        group, made when ``group`` is None), ``{'offset': '42'}`` (every partition at 42; ``'1:42'``, a
        ``Delivery.position``, or a list ``'0:10,1:42'``) or ``{'timestamp': ms}`` (the first message at
        or after that time). A start offset is committed at once.
        """
        self._assert_open()
        names = [topics] if isinstance(topics, str) else list(topics)
        if not names or not all(isinstance(name, str) and 0 < len(name) <= 249 for name in names):
            raise errors.ConfigError("topics must be one or more strings of 1 to 249 characters")
        private = group is None
        position = start or ("latest" if private else "earliest")
        if isinstance(position, Mapping):
            valid = (set(position) == {"offset"} and isinstance(position["offset"], str)) or (
                set(position) == {"timestamp"} and isinstance(position["timestamp"], int) and not isinstance(position["timestamp"], bool)
            )
            if isinstance(position.get("offset"), str):
                parse_offset_spec(str(position["offset"]), [0])
        else:
            valid = position in ("earliest", "latest")
        if not valid:
            raise errors.ConfigError(f"invalid Kafka start {position!r}: want 'earliest', 'latest', {{'offset': str}} or {{'timestamp': int}}")
        subscriber = KafkaSubscriber(
            self._context,
            names,
            f"private-{uuid.uuid4()}" if group is None else group,
            position,
            private,
            self._clients.discard,
            lambda: KafkaPublisher(self._context, lambda _publisher: None),
        )
        self._track(subscriber)
        return subscriber

    def lag(self, topic: str, group: str) -> int | None:
        """Messages of ``topic`` past ``group``'s committed offsets, summed over partitions (a partition without a
        commit counts from its earliest offset); in-flight messages count until committed. None when the topic
        does not exist."""
        self._assert_open()
        return self._context.lag(topic, group)

    def delete_topic(self, topic: str) -> bool:
        """Deletes the topic (records, and the groups' committed offsets and end notes on it); False when it did not exist."""
        self._assert_open()
        return self._context.delete_topic(topic)
