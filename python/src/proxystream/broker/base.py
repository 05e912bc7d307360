"""What every broker shares: options from an options object or keywords, the clients it made, and closing;
and what every subscriber shares: iteration, ``poll`` and ``buffered`` over one read primitive."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any, Callable, Iterator, Protocol, TypeVar

from .. import errors
from .types import Delivery

OptionsT = TypeVar("OptionsT")
BrokerT = TypeVar("BrokerT", bound="BrokerBase")
SubscriberT = TypeVar("SubscriberT", bound="SubscriberBase")


class Closable(Protocol):
    """A publisher or subscriber: something a broker closes with itself."""

    def close(self) -> None: ...


def parse_options(options_type: Callable[..., OptionsT], options: OptionsT | None, fields: dict[str, Any], owner: str) -> OptionsT:
    """``options`` with ``fields`` replaced, or ``options_type(**fields)``; an unknown or missing field is a
    ``ConfigError`` naming ``owner`` (the options' own checks raise theirs)."""
    try:
        return options_type(**fields) if options is None else replace(options, **fields)  # type: ignore[type-var]
    except TypeError as cause:
        raise errors.ConfigError(f"{owner}: {cause}") from cause


class BrokerBase:
    """The lifecycle of a broker: it tracks the publishers and subscribers it made, closes them (then what it holds
    itself, :meth:`_close_resources`) on :meth:`close`, idempotently, and refuses new clients once closed."""

    _closed_message = "broker is closed"

    def __init__(self) -> None:
        self._clients: set[Closable] = set()
        self._closed = False

    def _track(self, client: Closable) -> None:
        self._clients.add(client)

    def _closed_context(self) -> dict[str, str]:
        """Context of the ``ClosedError`` a closed broker raises. Default: none."""
        return {}

    def _close_resources(self) -> None:
        """Closes what the broker holds itself, after its clients. Default: nothing."""

    def close(self) -> None:
        """Closes every publisher and subscriber it made, then what it holds itself. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for client in list(self._clients):
            client.close()
        self._close_resources()

    def __enter__(self: BrokerT) -> BrokerT:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _assert_open(self) -> None:
        if self._closed:
            raise errors.ClosedError(self._closed_message, context=self._closed_context())


class SubscriberBase:
    """The reading side every subscriber shares, built on :meth:`_next`: iteration until :meth:`close`,
    :meth:`poll` with a timeout, :meth:`buffered` for a consumer's read-ahead, and ``with``. Subclasses set
    ``_topics``, ``_group``, ``_closed`` and ``_wait_s`` (how long one read waits while iterating)."""

    _topics: tuple[str, ...]
    _group: str
    _closed: threading.Event
    _wait_s: float

    @property
    def topics(self) -> tuple[str, ...]:
        return self._topics

    @property
    def group(self) -> str:
        return self._group

    def _next(self, wait: float) -> Delivery | None:
        """The next delivery, reading from the server for up to about ``wait`` seconds when none is at hand
        (0: only what was already read); None when none came."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Delivery]:
        return self.messages()

    def messages(self) -> Iterator[Delivery]:
        """Deliveries until :meth:`close`."""
        while not self._closed.is_set():
            delivery = self._next(self._wait_s)
            if delivery is not None:
                yield delivery

    def poll(self, timeout: float) -> Delivery | None:
        """The next delivery, or None when none came within about ``timeout`` seconds, or on close."""
        deadline = time.monotonic() + timeout
        while not self._closed.is_set():
            delivery = self._next(max(0.0, min(self._wait_s, deadline - time.monotonic())))
            if delivery is not None:
                return delivery
            if time.monotonic() >= deadline:
                return None
        return None

    def buffered(self) -> Delivery | None:
        """The next delivery already read from the server, or None; never waits (a consumer's read-ahead takes
        deliveries this way). Take from one thread, as :meth:`messages`."""
        return None if self._closed.is_set() else self._next(0.0)

    def __enter__(self: SubscriberT) -> SubscriberT:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
