"""The ZeroMQ broker, compatible with ``src/broker-adapters/zmq/``: the same three frames, byte for byte.

Every message is ``[topic + NUL, header, value]``. The header (``framing.ts``) is version ``1`` (u8), flags
(u8: 1 end of stream, 2 a key follows), the 8 random bytes naming the sending socket, the sequence of that
socket on that topic (u64 big-endian, from 0), then the key in UTF-8. A subscription is the topic frame, so
``a`` never matches ``ab``. TypeScript and Python publishers and subscribers mix on one endpoint.

pyzmq is an optional dependency (``pip install 'proxystream[zmq]'``). This module imports without it;
making a :class:`ZmqBroker` raises :class:`~proxystream.errors.MissingDependencyError` when it is missing.
"""

from __future__ import annotations

import errno
import os
import re
import struct
import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable, Literal, Sequence

from .. import errors
from ..wire import decode_dead_letter, is_dead_letter
from .base import SubscriberBase, parse_options
from .types import Delivery, OutgoingMessage

FRAME_VERSION = 1
"""Version byte of the header frame."""

_FLAG_END = 1
_FLAG_KEY = 2
_FIXED = 18
_ENDPOINT = re.compile(r"^(tcp|ipc|inproc|ws|wss|pgm|epgm|vmci)://\S+$")
_SLICE_S = 0.05
"""Longest a receive or a blocked send holds its socket before looking at ``close()`` again."""
_NUDGE_S = 0.02
_RETRIABLE = {errno.EADDRINUSE, errno.ECONNREFUSED, errno.EAGAIN, errno.EINTR}


def _zmq() -> Any:
    """The ``zmq`` module (pyzmq), or :class:`MissingDependencyError` naming the package to install."""
    try:
        import zmq
    except ImportError as cause:
        raise errors.MissingDependencyError(
            "the ZeroMQ broker needs pyzmq: pip install 'proxystream[zmq]' (or pyzmq)",
            context={"package": "pyzmq", "feature": "the ZeroMQ broker"},
        ) from cause
    return zmq


# --- framing (framing.ts) ---


@dataclass(frozen=True)
class FrameHeader:
    """What travels in the header frame: the sending socket's id (16 hex digits), its per-topic sequence, the flags."""

    publisher_id: str
    sequence: int
    end_of_stream: bool
    key: str | None


def topic_frame(topic: str) -> bytes:
    """The first frame: the topic in UTF-8 plus a NUL (also the subscription prefix of the topic)."""
    return f"{topic}\0".encode("utf-8")


subscription_prefix = topic_frame


def encode_header(publisher_id: bytes, sequence: int, end_of_stream: bool, key: str | None) -> bytes:
    """Version u8, flags u8, publisher id (8 bytes), sequence u64 big-endian, then the key in UTF-8."""
    if len(publisher_id) != 8:
        raise ValueError("a publisher id is 8 bytes")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence < 2**64:
        raise ValueError("a sequence is an integer from 0 to 2**64 - 1")
    flags = (_FLAG_END if end_of_stream else 0) | (0 if key is None else _FLAG_KEY)
    fixed = struct.pack(">BB8sQ", FRAME_VERSION, flags, bytes(publisher_id), sequence)
    return fixed if key is None else fixed + key.encode("utf-8")


def decode_header(frame: bytes | bytearray | memoryview) -> FrameHeader:
    """Parses a header frame; raises :class:`MalformedEventError` for anything else."""
    header = bytes(frame)
    if len(header) < _FIXED or header[0] != FRAME_VERSION:
        raise errors.MalformedEventError(
            "not a proxystream ZeroMQ header frame", context={"bytes": len(header), "version": header[0] if header else None}
        )
    flags = header[1]
    (sequence,) = struct.unpack_from(">Q", header, 10)
    return FrameHeader(
        publisher_id=header[2:10].hex(),
        sequence=sequence,
        end_of_stream=(flags & _FLAG_END) != 0,
        key=header[_FIXED:].decode("utf-8", errors="replace") if flags & _FLAG_KEY else None,
    )


def decode_topic(frame: bytes | bytearray | memoryview) -> str | None:
    """The topic a topic frame names, or None when it does not end in NUL."""
    data = bytes(frame)
    if not data or data[-1] != 0:
        return None
    return data[:-1].decode("utf-8", errors="replace")


def check_topic(topic: object) -> str:
    """A topic is 1-256 characters (UTF-16 units, as JavaScript counts) without NUL; else :class:`ConfigError`."""
    if not isinstance(topic, str) or not 0 < len(topic.encode("utf-16-le")) // 2 <= 256 or "\0" in topic:
        raise errors.ConfigError("a ZeroMQ topic must be 1-256 characters without NUL", context={"topic": str(topic)})
    return topic


# --- options (options.ts) ---


@dataclass(frozen=True)
class ZmqOptions:
    """How a :class:`ZmqBroker` uses ZeroMQ, with the defaults of ``src/broker-adapters/zmq/options.ts``.

    Attributes:
        pattern: ``'pub-sub'`` (fan-out to every subscriber, filtered by topic) or ``'push-pull'`` (one work
            queue per endpoint, load-balanced across the pulling subscribers).
        endpoint: Where the binding side binds and the other side connects, e.g. ``tcp://127.0.0.1:5555`` or
            ``tcp://127.0.0.1:*`` (any free port; :meth:`ZmqBroker.endpoint` says which).
        bind: Which side binds the endpoint: ``'publisher'`` (default) or ``'subscriber'``.
        send_high_water_mark: Messages queued per peer on the sending side before PUB drops / PUSH blocks. 0 = no limit. Default 1000.
        receive_high_water_mark: Messages queued per peer on the receiving side. 0 = no limit. Default 1000.
        linger_ms: How long a closed sending socket keeps delivering queued messages (``close()`` waits for it). -1 = forever. Default 1000.
        connect_timeout_ms: TCP connect timeout of connecting sockets (0 = the OS default), and the longest wait
            for this broker's own binding subscriber when the endpoint has a ``*``. Default 5000.
    """

    pattern: Literal["pub-sub", "push-pull"]
    endpoint: str
    bind: Literal["publisher", "subscriber"] = "publisher"
    send_high_water_mark: int = 1000
    receive_high_water_mark: int = 1000
    linger_ms: int = 1000
    connect_timeout_ms: int = 5000

    def __post_init__(self) -> None:
        if self.pattern not in ("pub-sub", "push-pull"):
            raise errors.ConfigError("ZmqBroker pattern must be 'pub-sub' or 'push-pull'", context={"pattern": str(self.pattern)})
        if not isinstance(self.endpoint, str) or not _ENDPOINT.match(self.endpoint):
            raise errors.ConfigError(
                "ZmqBroker endpoint: expected transport://address, e.g. tcp://127.0.0.1:5555", context={"endpoint": str(self.endpoint)}
            )
        if self.bind not in ("publisher", "subscriber"):
            raise errors.ConfigError("ZmqBroker bind must be 'publisher' or 'subscriber'", context={"bind": str(self.bind)})
        for name, least in (("send_high_water_mark", 0), ("receive_high_water_mark", 0), ("linger_ms", -1), ("connect_timeout_ms", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise errors.ConfigError(f"ZmqBroker {name} must be an integer of at least {least}", context={name: str(value)})


def _has_wildcard(endpoint: str) -> bool:
    return "*" in endpoint


def _endpoint_error(error: Exception, action: str, endpoint: str) -> errors.ProxyStreamError:
    """A bind/connect failure as ConnectionError (port in use, refused: try later) or ConfigError (fix it)."""
    number = getattr(error, "errno", None)
    context: dict[str, errors.ContextValue] = {"endpoint": endpoint, "action": action, "zmqCode": errno.errorcode.get(number) if isinstance(number, int) else None}
    message = f"cannot {action} ZeroMQ endpoint {endpoint}: {error}"
    if number in _RETRIABLE:
        return errors.ConnectionError(message, context=context)
    return errors.ConfigError(message, context=context)


def _bind(socket: Any, endpoint: str) -> str:
    """Binds; the concrete endpoint (``*`` replaced by the chosen port or address)."""
    try:
        socket.bind(endpoint)
    except Exception as cause:  # zmq.ZMQError, or ValueError/TypeError for a malformed address
        raise _endpoint_error(cause, "bind", endpoint) from cause
    last = socket.getsockopt(_zmq().LAST_ENDPOINT)
    return last.decode("utf-8").rstrip("\0") if isinstance(last, bytes) and last else endpoint


def _connect(socket: Any, endpoint: str) -> None:
    """Connects (never fails for an absent peer: ZeroMQ reconnects in the background)."""
    try:
        socket.connect(endpoint)
    except Exception as cause:
        raise _endpoint_error(cause, "connect", endpoint) from cause


# --- stats ---


@dataclass
class ZmqSubscriberStats:
    """Counters of one subscriber.

    ``received``: messages of a subscribed topic taken off the socket. ``dropped``: PUB/SUB only, messages lost
    before this subscriber, counted from sequence gaps per (publisher, topic). ``unmatched``: PUSH/PULL only,
    messages of a topic this subscriber did not list, discarded. ``malformed``: messages that were not
    proxystream frames, discarded.
    """

    received: int = 0
    dropped: int = 0
    unmatched: int = 0
    malformed: int = 0


@dataclass
class ZmqBrokerStats(ZmqSubscriberStats):
    """A broker's counters: its subscribers' (closed ones included), messages its publishers queued, subscribers open."""

    sent: int = 0
    subscribers: int = 0


def _add_stats(into: ZmqSubscriberStats, other: ZmqSubscriberStats) -> None:
    into.received += other.received
    into.dropped += other.dropped
    into.unmatched += other.unmatched
    into.malformed += other.malformed


# --- sending side (zmq-sender.ts, zmq-publisher.ts) ---


class _Sender:
    """The one sending socket (PUB or PUSH) a broker's publishers share; sends are serialised and numbered per topic."""

    def __init__(self, zmq: Any, context: Any, options: ZmqOptions, binds: bool, connect_to: Callable[[], str]) -> None:
        self._zmq = zmq
        self._options = options
        self._binds = binds
        self._connect_to = connect_to
        self._push = options.pattern == "push-pull"
        self._socket = context.socket(zmq.PUSH if self._push else zmq.PUB)
        self._socket.setsockopt(zmq.SNDHWM, options.send_high_water_mark)
        self._socket.setsockopt(zmq.LINGER, options.linger_ms)
        if not binds:
            self._socket.setsockopt(zmq.CONNECT_TIMEOUT, options.connect_timeout_ms)
        self._id = os.urandom(8)
        self._sequences: dict[str, int] = {}
        self._lock = threading.Lock()
        self._endpoint: str | None = None
        self._closed = False
        self.sent = 0

    def ready(self) -> str:
        """Binds or connects on first use; the concrete endpoint."""
        with self._lock:
            return self._ready()

    def _ready(self) -> str:
        if self._closed:
            raise errors.ClosedError("ZeroMQ publisher is closed", context={"endpoint": self._options.endpoint})
        if self._endpoint is None:
            if self._binds:
                self._endpoint = _bind(self._socket, self._options.endpoint)
            else:
                target = self._connect_to()
                _connect(self._socket, target)
                self._endpoint = target
        return self._endpoint

    def publish(self, topic: str, messages: Sequence[OutgoingMessage], timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._ready()
            frame = topic_frame(topic)
            sequence = self._sequences.get(topic, 0)
            try:
                for message in messages:
                    header = encode_header(self._id, sequence, message.end_of_stream, message.key)
                    self._send(topic, [frame, header, message.value], deadline)
                    sequence += 1
                    self.sent += 1
            finally:
                self._sequences[topic] = sequence

    def _send(self, topic: str, frames: list[Any], deadline: float | None) -> None:
        zmq = self._zmq
        while True:
            if self._closed:
                raise errors.ClosedError("ZeroMQ publisher is closed", context={"topic": topic})
            try:
                # Once the first frame is queued, ZeroMQ takes the rest of the message: it arrives whole or not at all.
                self._socket.send(frames[0], zmq.NOBLOCK | zmq.SNDMORE)
                self._socket.send(frames[1], zmq.SNDMORE)
                self._socket.send(frames[2], 0, copy=False)
                return
            except zmq.Again:
                pass  # PUSH with no peer connected, or every peer at its high-water mark
            except zmq.ZMQError as cause:
                raise errors.PublishError(f"ZeroMQ could not queue the message: {cause}", context={"topic": topic}) from cause
            wait = _SLICE_S if deadline is None else min(_SLICE_S, deadline - time.monotonic())
            if wait <= 0:
                raise errors.TimeoutError("no ZeroMQ peer took the message in time", context={"topic": topic})
            self._socket.poll(max(1, int(wait * 1000)), zmq.POLLOUT)

    def close(self) -> None:
        """Closes the socket; ZeroMQ keeps delivering what is queued for ``linger_ms`` (the broker's close waits)."""
        self._closed = True
        with self._lock:
            self._socket.close()


class ZmqPublisher:
    """A publisher handle of a :class:`ZmqBroker`. All handles of one broker share its sending socket.

    :meth:`publish` returns once ZeroMQ queued every message (there is no broker ack): PUB never waits (it
    drops at a peer's high-water mark), PUSH waits while every peer is full or none is connected.
    """

    def __init__(self, sender: _Sender, on_close: Callable[[ZmqPublisher], None]) -> None:
        self._sender = sender
        self._on_close = on_close
        self._closed = False

    def ready(self) -> str:
        """Binds or connects the shared socket now; the concrete endpoint. Raises ConfigError/ConnectionError."""
        return self._sender.ready()

    def publish(self, topic: str, messages: Sequence[OutgoingMessage], *, timeout: float | None = None) -> None:
        """Queues ``messages`` in order. With PUSH, waits for a peer; ``timeout`` (seconds) bounds that wait with
        :class:`~proxystream.errors.TimeoutError` (the messages before it stay queued)."""
        if self._closed:
            raise errors.ClosedError("ZeroMQ publisher is closed", context={"topic": str(topic)})
        check_topic(topic)
        if not messages:
            return
        self._sender.publish(topic, messages, timeout)

    def close(self) -> None:
        """Stops publishing; the socket stays open for the broker, which closes it. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._on_close(self)

    def __enter__(self) -> ZmqPublisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --- receiving side (zmq-subscriber.ts) ---


def _settled() -> None:
    return None


class ZmqSubscriber(SubscriberBase):
    """One ZeroMQ receiving socket (SUB or PULL). At-most-once: ack and nack do nothing, nothing is redelivered.

    The end-of-stream marker is delivered once per topic. ``dropped`` counts sequence gaps; drops after the
    last received message show only when a later one arrives. :meth:`buffered` takes what the socket already
    queued. Iterate :meth:`messages` (or :meth:`poll`) from one thread at a time; :meth:`close` may come from
    any thread.
    """

    def __init__(
        self,
        zmq: Any,
        context: Any,
        options: ZmqOptions,
        topics: Sequence[str],
        group: str,
        binds: bool,
        connect_to: Callable[[], str],
        on_bound: Callable[[str], None],
        on_close: Callable[[ZmqSubscriber], None],
    ) -> None:
        self._zmq = zmq
        self._topics = tuple(topics)
        self._topic_set = frozenset(topics)
        self._group = group
        self._wait_s = _SLICE_S
        self._count_gaps = options.pattern == "pub-sub"
        self._on_close = on_close
        self._stats = ZmqSubscriberStats()
        self._last_sequence: dict[tuple[str, str], int] = {}
        self._ended: set[str] = set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._peered = False
        socket = context.socket(zmq.SUB if self._count_gaps else zmq.PULL)
        try:
            socket.setsockopt(zmq.RCVHWM, options.receive_high_water_mark)
            socket.setsockopt(zmq.LINGER, 0)
            if self._count_gaps:
                for topic in topics:
                    socket.setsockopt(zmq.SUBSCRIBE, subscription_prefix(topic))
            if not binds:
                socket.setsockopt(zmq.CONNECT_TIMEOUT, options.connect_timeout_ms)
            self._monitor = socket.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_ACCEPTED)
        except Exception:
            socket.close(linger=0)
            raise
        self._socket = socket
        try:
            if binds:
                self._endpoint = _bind(socket, options.endpoint)
                on_bound(self._endpoint)
            else:
                self._endpoint = connect_to()
                _connect(socket, self._endpoint)
        except Exception:
            self._close_sockets()
            raise
        if binds and self._count_gaps:
            # A bound SUB attaches a newly connected publisher (and sends it the subscriptions) only when its
            # socket processes commands: between reads, reading ZMQ_EVENTS every 20 ms does it.
            threading.Thread(target=self._nudge, name="proxystream-zmq-nudge", daemon=True).start()

    @property
    def endpoint(self) -> str:
        """The endpoint this socket bound (wildcards resolved) or connected to."""
        return self._endpoint

    @property
    def dropped(self) -> int:
        """Messages counted lost (PUB/SUB sequence gaps)."""
        return self._stats.dropped

    def stats(self) -> ZmqSubscriberStats:
        """A copy of this subscriber's counters."""
        return replace(self._stats)

    def peer(self, timeout: float) -> bool:
        """True once a peer is connected, False when none is within ``timeout`` seconds. Connecting to an endpoint
        nobody bound is no error in ZeroMQ (the socket keeps reconnecting): this is how to learn nobody is there."""
        deadline = time.monotonic() + timeout
        while not self._peered and not self._closed.is_set():
            with self._lock:
                if self._closed.is_set():
                    break
                wait = max(0.0, min(_SLICE_S, deadline - time.monotonic()))
                if self._monitor.poll(int(wait * 1000), self._zmq.POLLIN):
                    self._monitor.recv_multipart()
                    self._peered = True
            if time.monotonic() >= deadline:
                break
        return self._peered

    def close(self) -> None:
        """Closes the socket at once (receiving sockets do not linger); ends every iteration. Idempotent."""
        if self._closed.is_set():
            return
        self._closed.set()
        with self._lock:
            self._close_sockets()
        self._on_close(self)

    def _close_sockets(self) -> None:
        try:
            self._socket.disable_monitor()
        except self._zmq.ZMQError:
            pass
        self._monitor.close(linger=0)
        self._socket.close(linger=0)

    def _nudge(self) -> None:
        while not self._closed.wait(_NUDGE_S):
            if self._lock.acquire(blocking=False):
                try:
                    if not self._closed.is_set():
                        self._socket.getsockopt(self._zmq.EVENTS)
                finally:
                    self._lock.release()

    def _next(self, wait: float) -> Delivery | None:
        zmq = self._zmq
        with self._lock:
            if self._closed.is_set():
                return None
            try:
                if not self._socket.poll(int(wait * 1000), zmq.POLLIN):
                    return None
                frames = self._socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return None
            except zmq.ZMQError as cause:
                if self._closed.is_set():
                    return None
                raise errors.ConnectionError(f"ZeroMQ receive failed: {cause}", context={"topics": ",".join(self._topics)}) from cause
        return self._decode(frames)

    def _decode(self, frames: list[bytes]) -> Delivery | None:
        topic = decode_topic(frames[0]) if frames else None
        header: FrameHeader | None = None
        if len(frames) == 3:
            try:
                header = decode_header(frames[1])
            except errors.MalformedEventError:
                header = None
        if topic is None or header is None:
            self._stats.malformed += 1
            return None
        if topic not in self._topic_set:
            self._stats.unmatched += 1
            return None
        self._stats.received += 1
        if self._count_gaps:
            self._count_gap(topic, header)
        if header.end_of_stream:
            if topic in self._ended:
                return None
            self._ended.add(topic)
        value = frames[2]
        delivery = Delivery(
            topic=topic,
            value=value,
            position=f"{header.publisher_id}:{header.sequence}",
            delivery_count=1,
            end_of_stream=header.end_of_stream,
            key=header.key,
            _ack=_settled,
            _nack=lambda requeue, delay_ms: None,
        )
        if is_dead_letter(value):
            try:
                delivery.dead_letter = decode_dead_letter(value)
            except errors.MalformedEventError:
                pass  # tagged as a dead letter but not one: left unset, decode_dead_letter(value) says why
        return delivery

    def _count_gap(self, topic: str, header: FrameHeader) -> None:
        source = (header.publisher_id, topic)
        last = self._last_sequence.get(source)
        if last is not None and header.sequence > last + 1:
            self._stats.dropped += header.sequence - last - 1
        if last is None or header.sequence > last:
            self._last_sequence[source] = header.sequence


# --- the broker (zmq-broker.ts) ---


class ZmqBroker:
    """A ZeroMQ broker: no server, one endpoint, at-most-once (ack/nack do nothing; nothing is redelivered or
    replayed; a subscriber starts at the live edge), on the frames of the TypeScript ``ZmqBroker``.

    - ``pub-sub``: every subscriber gets every message of its topics (a group name is accepted but does not
      load-balance). A slow subscriber loses messages at the high-water mark, counted in ``dropped``. End of
      stream reaches every connected subscriber once per topic unless dropped. Subscriptions take a moment to
      reach the publisher (slow joiner): messages published right after subscribing may be missed.
    - ``push-pull``: one work queue per endpoint, round-robin across all pulling subscribers whatever their
      group; an end-of-stream message reaches one puller only. PUSH waits while no puller is connected.

    One side binds (``bind``, default the publisher side: all publishers of a broker share one socket); with
    ``bind='subscriber'`` one subscriber binds the endpoint. Connecting to an endpoint nobody bound is not an
    error. A failed bind raises ``ConnectionError`` (port in use) or ``ConfigError``. The broker owns a ZeroMQ
    context (``inproc://`` endpoints work within one broker); :meth:`close` waits up to ``linger_ms`` for
    queued messages to go out.

    Takes a :class:`ZmqOptions` or its fields as keywords (``ZmqBroker(pattern='pub-sub', endpoint='tcp://127.0.0.1:*')``).
    """

    def __init__(self, options: ZmqOptions | None = None, **fields: Any) -> None:
        parsed = parse_options(ZmqOptions, options, fields, "ZmqBroker")
        self._zmq = _zmq()
        self._options = parsed
        self._context = self._zmq.Context()
        self._lock = threading.Lock()
        self._sender: _Sender | None = None
        self._bound = threading.Event()
        self._bound_endpoint: str | None = None
        self._publishers: set[ZmqPublisher] = set()
        self._subscribers: set[ZmqSubscriber] = set()
        self._retired = ZmqSubscriberStats()
        self._closed = False

    @property
    def options(self) -> ZmqOptions:
        return self._options

    @property
    def pattern(self) -> str:
        """``pub-sub`` or ``push-pull``."""
        return self._options.pattern

    def endpoint(self) -> str:
        """The concrete endpoint (wildcards resolved). With ``bind='publisher'`` this binds the shared sending socket
        now; with ``bind='subscriber'`` it waits (up to ``connect_timeout_ms``) for a subscriber of this broker to
        bind a wildcard endpoint."""
        self._assert_open()
        if self._options.bind == "publisher":
            return self._ensure_sender().ready()
        return self._connect_target()

    def publisher(self) -> ZmqPublisher:
        """A new publisher handle on the shared sending socket (bound or connected on first publish)."""
        self._assert_open()
        publisher = ZmqPublisher(self._ensure_sender(), self._publishers.discard)
        self._publishers.add(publisher)
        return publisher

    def subscriber(self, topics: str | Sequence[str], group: str | None = None, *, start: str | None = None) -> ZmqSubscriber:
        """A new receiving socket for ``topics``. ``start`` may be None, ``'latest'`` or ``'earliest'`` (both mean
        "from now": ZeroMQ keeps nothing); ``group`` only names the subscriber (default: a private name, or
        ``zmq-pull:<endpoint>`` for push-pull)."""
        self._assert_open()
        names = [topics] if isinstance(topics, str) else list(topics)
        if not names:
            raise errors.ConfigError("a ZeroMQ subscriber needs at least one topic")
        for name in names:
            check_topic(name)
        if start not in (None, "latest", "earliest"):
            raise errors.ConfigError("ZeroMQ cannot replay: start from an offset or timestamp is not supported", context={"from": str(start)})
        options = self._options
        if group is None:
            group = f"zmq-pull:{options.endpoint}" if options.pattern == "push-pull" else f"private-{uuid.uuid4()}"
        subscriber = ZmqSubscriber(
            self._zmq,
            self._context,
            options,
            names,
            group,
            options.bind == "subscriber",
            self._connect_target,
            self._on_bound,
            self._forget_subscriber,
        )
        self._subscribers.add(subscriber)
        return subscriber

    def stats(self) -> ZmqBrokerStats:
        """Counters summed over this broker's publishers and subscribers (closed ones included)."""
        total = ZmqBrokerStats(sent=0 if self._sender is None else self._sender.sent, subscribers=len(self._subscribers))
        _add_stats(total, self._retired)
        for subscriber in list(self._subscribers):
            _add_stats(total, subscriber.stats())
        return total

    def close(self) -> None:
        """Closes every subscriber, then every publisher, then the shared socket, and waits up to ``linger_ms``
        for queued messages to go out. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for subscriber in list(self._subscribers):
            subscriber.close()
        for publisher in list(self._publishers):
            publisher.close()
        if self._sender is not None:
            self._sender.close()
        self._context.term()

    def __enter__(self) -> ZmqBroker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _assert_open(self) -> None:
        if self._closed:
            raise errors.ClosedError("ZeroMQ broker is closed", context={"endpoint": self._options.endpoint})

    def _ensure_sender(self) -> _Sender:
        with self._lock:
            if self._sender is None:
                self._sender = _Sender(self._zmq, self._context, self._options, self._options.bind == "publisher", self._connect_target)
            return self._sender

    def _connect_target(self) -> str:
        """Where a connecting socket of this broker connects: the configured endpoint, or this broker's own bound one."""
        endpoint, timeout_ms = self._options.endpoint, self._options.connect_timeout_ms
        if not _has_wildcard(endpoint):
            return endpoint
        if self._options.bind == "publisher":
            return self._ensure_sender().ready()
        if not self._bound.wait(timeout_ms / 1000) or self._bound_endpoint is None:
            raise errors.ConnectionError(f"no subscriber of this broker bound {endpoint} within {timeout_ms} ms", context={"timeoutMs": timeout_ms})
        return self._bound_endpoint

    def _on_bound(self, endpoint: str) -> None:
        if self._bound_endpoint is None:
            self._bound_endpoint = endpoint
            self._bound.set()

    def _forget_subscriber(self, subscriber: ZmqSubscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.discard(subscriber)
            _add_stats(self._retired, subscriber.stats())
