"""The Redis Streams broker: a factory of publishers and subscribers sharing options and a connection."""

from __future__ import annotations

import uuid
from typing import Any, Sequence

from ... import errors
from ..base import BrokerBase, parse_options
from .context import StreamsContext
from .group_ops import group_start_id
from .options import RedisStreamsOptions
from .publisher import RedisStreamsPublisher
from .subscriber import RedisStreamsSubscriber


class RedisStreamsBroker(BrokerBase):
    """Redis Streams, on the same streams, fields and end-of-stream hash as the TypeScript ``RedisStreamsBroker``.

    Topics are streams; groups are consumer groups (load-balanced within a group, every group sees every
    entry); a subscriber without a group gets a private group from ``latest``, destroyed on close.
    Guarantee: at-least-once. Unacked entries return to the group when a subscriber closes (at once) or
    dies (after ``visibility_timeout_ms``, by XAUTOCLAIM), and go to the dead-letter stream
    ``<topic>.dlq`` after ``max_deliveries``. End of stream reaches every subscriber of every group once
    its group has settled everything before the marker. TypeScript and Python consumers may share a group.

    Takes a :class:`RedisStreamsOptions` or its fields as keywords (``RedisStreamsBroker(url=..., block_ms=200)``).
    """

    _closed_message = "redis-streams broker is closed"

    def __init__(self, options: RedisStreamsOptions | None = None, **fields: Any) -> None:
        super().__init__()
        self._context = StreamsContext(parse_options(RedisStreamsOptions, options, fields, "RedisStreamsBroker"))

    @property
    def options(self) -> RedisStreamsOptions:
        return self._context.options

    def publisher(self) -> RedisStreamsPublisher:
        """A new publisher."""
        self._assert_open()
        publisher = RedisStreamsPublisher(self._context, self._clients.discard)
        self._track(publisher)
        return publisher

    def subscriber(self, topics: str | Sequence[str], group: str | None = None, *, consumer: str | None = None, start: str | None = None) -> RedisStreamsSubscriber:
        """A new member of ``group`` reading ``topics`` (its group is created from ``start`` unless it exists).

        ``start`` is ``'earliest'`` (the default for named groups) or ``'latest'`` (the default, and the
        only sensible start, of a private group, made when ``group`` is None). ``consumer`` names this
        member (default: a random UUID).
        """
        self._assert_open()
        names = [topics] if isinstance(topics, str) else list(topics)
        if not names or not all(isinstance(name, str) and 0 < len(name) <= 256 for name in names):
            raise errors.ConfigError("topics must be one or more strings of 1 to 256 characters")
        private = group is None
        subscriber = RedisStreamsSubscriber(
            self._context,
            names,
            f"private-{uuid.uuid4()}" if group is None else group,
            consumer or str(uuid.uuid4()),
            group_start_id(start or ("latest" if private else "earliest")),
            private,
            self._clients.discard,
        )
        self._track(subscriber)
        return subscriber

    def _close_resources(self) -> None:
        self._context.commands.close()
