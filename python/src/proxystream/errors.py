"""Typed errors with the same stable ``code`` strings as the TypeScript library.

Match on ``code`` (or on the class), never on message text.
"""

from __future__ import annotations

from typing import Final, Mapping, Union

ContextValue = Union[str, int, float, bool, None]


class ErrorCodes:
    """The closed set of error codes, shared with TypeScript's ``ErrorCodes``."""

    MALFORMED_EVENT: Final = "PS_MALFORMED_EVENT"
    MISSING_PAYLOAD: Final = "PS_MISSING_PAYLOAD"
    CORRUPT_PAYLOAD: Final = "PS_CORRUPT_PAYLOAD"
    UNKNOWN_STORE: Final = "PS_UNKNOWN_STORE"
    INVALID_KEY: Final = "PS_INVALID_KEY"
    LIMIT_EXCEEDED: Final = "PS_LIMIT_EXCEEDED"
    CODEC: Final = "PS_CODEC"
    CONFIG: Final = "PS_CONFIG"
    CLOSED: Final = "PS_CLOSED"
    ABORTED: Final = "PS_ABORTED"
    CONNECTION: Final = "PS_CONNECTION"
    TIMEOUT: Final = "PS_TIMEOUT"
    PUBLISH: Final = "PS_PUBLISH"
    HANDLER: Final = "PS_HANDLER"
    MISSING_DEPENDENCY: Final = "PS_MISSING_DEPENDENCY"


class ProxyStreamError(Exception):
    """Root of every proxystream error.

    ``code`` is stable, ``context`` names what was involved (topic, store id, key, address...),
    ``retriable`` is true when the same operation may succeed later. A cause is chained with
    ``raise ... from cause``.
    """

    code: str = ""
    retriable: bool = False

    def __init__(self, message: str, *, context: Mapping[str, ContextValue] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, ContextValue] = dict(context or {})


class MalformedEventError(ProxyStreamError):
    """Bytes that are not a valid proxystream event (bad msgpack, wrong version, bad fields, over limits)."""

    code = ErrorCodes.MALFORMED_EVENT


class MissingPayloadError(ProxyStreamError):
    """The store has no object under the key a ref names (deleted, expired, never written)."""

    code = ErrorCodes.MISSING_PAYLOAD


class CorruptPayloadError(ProxyStreamError):
    """The stored bytes do not match the size or checksum the ref carries."""

    code = ErrorCodes.CORRUPT_PAYLOAD


class UnknownStoreError(ProxyStreamError):
    """An event names a store id that this process has not configured."""

    code = ErrorCodes.UNKNOWN_STORE


class InvalidKeyError(ProxyStreamError):
    """A store key that is empty, too long, or could escape the store (path traversal)."""

    code = ErrorCodes.INVALID_KEY


class LimitExceededError(ProxyStreamError):
    """A configured limit (event size, metadata depth, payload size) was exceeded."""

    code = ErrorCodes.LIMIT_EXCEEDED


class CodecError(ProxyStreamError):
    """A value cannot be encoded, or stored bytes cannot be decoded, by the named codec."""

    code = ErrorCodes.CODEC


class ConfigError(ProxyStreamError):
    """Options failed validation."""

    code = ErrorCodes.CONFIG


class ClosedError(ProxyStreamError):
    """The object was used after ``close()``."""

    code = ErrorCodes.CLOSED


class AbortedError(ProxyStreamError):
    """The operation was cancelled by its caller."""

    code = ErrorCodes.ABORTED


class ConnectionError(ProxyStreamError):  # noqa: A001 - the TypeScript name, used through the module
    """A server (broker or store) could not be reached or dropped the connection. Retriable."""

    code = ErrorCodes.CONNECTION
    retriable = True


class TimeoutError(ProxyStreamError):  # noqa: A001 - the TypeScript name, used through the module
    """An operation did not finish within its time bound. Retriable."""

    code = ErrorCodes.TIMEOUT
    retriable = True


class PublishError(ProxyStreamError):
    """The broker refused or failed to accept published events; the events were not sent."""

    code = ErrorCodes.PUBLISH


class HandlerError(ProxyStreamError):
    """A user handler raised, timed out, or its worker crashed."""

    code = ErrorCodes.HANDLER
    retriable = True


class MissingDependencyError(ProxyStreamError):
    """A feature needs an optional package that is not installed; ``context['package']`` names it."""

    code = ErrorCodes.MISSING_DEPENDENCY


def is_proxystream_error(error: object, code: str | None = None) -> bool:
    """True for any proxystream error, or for one of ``code`` when given."""
    return isinstance(error, ProxyStreamError) and (code is None or error.code == code)
