"""The one way this package opens a Redis client (the RedisStore's and the Redis Streams broker's)."""

from __future__ import annotations

import json
import re

import redis
from redis.connection import Encoder, PythonRespSerializer  # type: ignore[attr-defined]

from . import errors

_BUFFER_CUTOFF = 6000
"""Arguments longer than this go out as buffers of their own (redis-py's own cutoff)."""

_PACKER = PythonRespSerializer(_BUFFER_CUTOFF, Encoder(encoding="utf-8", encoding_errors="strict", decode_responses=False).encode)  # type: ignore[no-untyped-call]


def pack_command(*args: str | bytes) -> bytes:
    """One command in RESP, packed as this package's clients pack theirs (for sockets of its own)."""
    return b"".join(_PACKER.pack(*args))  # type: ignore[no-untyped-call]


def connection_error(address: str, cause: Exception) -> errors.ConnectionError:
    """The typed error of a Redis call that failed to reach the server. Refused credentials (``WRONGPASS``,
    ``NOAUTH``) are not retriable, as in TypeScript: trying again cannot help."""
    if isinstance(cause, (redis.exceptions.AuthenticationError, redis.exceptions.AuthorizationError)):
        error = errors.ConnectionError(f"redis at {address} refused the credentials: {cause}", context={"address": address})
        error.retriable = False
        return error
    return errors.ConnectionError(f"redis at {address} is unreachable: {cause}", context={"address": address})


def open_redis(url: str, connect_timeout_ms: float) -> redis.Redis:
    """A client on ``url`` that returns bytes (RESP2), with a bounded connect.

    Replies are parsed by hiredis (a dependency: about 5x faster reads of a 1 MB value than redis-py's Python
    parser here), while commands are packed by redis-py's Python packer, which sends a large value as a
    buffer of its own; hiredis's packer copies it into the command first (puts of 1 MB took 4x longer).
    Raises :class:`ConfigError` for a URL redis-py cannot parse (the password is hidden in the message).
    """
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=connect_timeout_ms / 1000, protocol=2, command_packer=_PACKER)
    except ValueError as cause:
        raise errors.ConfigError(f"invalid redis URL {json.dumps(re.sub(r'//[^@/]*@', '//***@', url))}") from cause
