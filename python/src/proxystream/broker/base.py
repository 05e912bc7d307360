"""What every broker shares: options from an options object or keywords, the clients it made, and closing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Protocol, TypeVar

from .. import errors

OptionsT = TypeVar("OptionsT")
BrokerT = TypeVar("BrokerT", bound="BrokerBase")


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
