"""What every broker adapter offers (the Python side of ``src/broker-adapters/types.ts``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol, Sequence

from ..wire import DeadLetter


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to publish: the encoded event, its partition/ordering key, and whether it marks the end of its topic."""

    value: bytes
    key: str | None = None
    end_of_stream: bool = False


@dataclass
class Delivery:
    """One received message. Call exactly one of :meth:`ack` or :meth:`nack`; later calls do nothing.

    ``position`` is the broker position (a stream entry id), ``delivery_count`` is 1 on first delivery.
    ``end_of_stream`` marks the end of ``topic``: each subscriber of each group receives it once, after its
    group settled everything published before it. ``dead_letter`` is the decoded record when the message is
    a dead letter (read from a dead-letter topic).
    """

    topic: str
    value: bytes
    position: str
    delivery_count: int
    end_of_stream: bool
    key: str | None = None
    dead_letter: DeadLetter | None = None
    _ack: Callable[[], None] = field(default=lambda: None, repr=False)
    _nack: Callable[[bool, float], None] = field(default=lambda requeue, delay_ms: None, repr=False)
    _settled: bool = field(default=False, repr=False)
    _ack_later: Callable[[Callable[[bool], None] | None], None] | None = field(default=None, repr=False)

    def ack(self, *, then: Callable[[bool], None] | None = None) -> None:
        """Tells the broker this group is done with the message. Redis Streams sends the XACK from a thread
        of its own and returns at once; ``then`` hears whether the broker confirmed it (True) or not (False:
        the message comes again), on that thread. Elsewhere the ack is done on return and ``then(True)`` runs
        before it returns."""
        if self._settled:
            return
        self._settled = True
        if self._ack_later is not None:
            self._ack_later(then)
            return
        self._ack()
        if then is not None:
            then(True)

    def nack(self, *, requeue: bool = True, delay_ms: float = 0) -> None:
        """Hands the message back for redelivery after ``delay_ms`` (or drops it with ``requeue=False``)."""
        if self._settled:
            return
        self._settled = True
        self._nack(requeue, max(0.0, delay_ms))


class Publisher(Protocol):
    """Publishes messages to topics; :meth:`publish` returns once the broker accepted all of them."""

    def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> None: ...

    def close(self) -> None: ...


class Subscriber(Protocol):
    """Receives the messages of its topics as one member of ``group``."""

    @property
    def topics(self) -> tuple[str, ...]: ...

    @property
    def group(self) -> str: ...

    def messages(self) -> Iterator[Delivery]: ...

    def poll(self, timeout: float) -> Delivery | None: ...

    def close(self) -> None: ...
