"""Publishes to Redis Streams, as ``redis-streams-publisher.ts``."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import redis

from ... import errors
from ...store.redis.lua import REPOSITORY, load_lua, queue_lua, settle_lua
from ..types import OutgoingMessage
from .context import StreamsContext

_PUBLISH_EOS = load_lua("publish-eos-2.lua", __package__, REPOSITORY / "src" / "broker-adapters" / "redis-streams")


class RedisStreamsPublisher:
    """One pipeline of XADDs per :meth:`publish` call, returning when every XADD replied.

    Fields: ``v`` value, ``k`` key, ``e`` ``'1'`` on the end-of-stream entry, which the TypeScript
    adapter's ``publish-eos-2.lua`` also records in ``<stream>:ps-eos``.
    """

    def __init__(self, context: StreamsContext, on_close: Callable[[RedisStreamsPublisher], None]) -> None:
        self._context = context
        self._on_close = on_close
        self._closed = False

    def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> None:
        """Appends ``messages`` to the topic's stream; raises :class:`PublishError` when Redis refused any."""
        if self._closed:
            raise errors.ClosedError("redis-streams publisher is closed", context={"topic": topic})
        if not messages:
            return
        context = self._context
        stream = context.stream(topic)
        max_len = context.options.max_len
        eos_keys = [stream, context.eos_key(topic)]
        scripts: dict[int, list[Any]] = {}

        def send() -> list[Any]:
            pipeline = context.commands.pipeline(transaction=False)
            for index, message in enumerate(messages):
                if message.end_of_stream:
                    scripts[index] = ["" if max_len is None else max_len, message.value, message.key or ""]
                    queue_lua(pipeline, _PUBLISH_EOS, eos_keys, scripts[index])
                    continue
                fields: dict[Any, Any] = {"v": message.value}
                if message.key is not None:
                    fields["k"] = message.key
                pipeline.xadd(stream, fields, maxlen=max_len, approximate=True)
            replies = pipeline.execute(raise_on_error=False)
            return [
                settle_lua(context.commands, reply, _PUBLISH_EOS, eos_keys, scripts[index]) if index in scripts else reply
                for index, reply in enumerate(replies)
            ]

        try:
            replies = context.run(send)
        except redis.exceptions.ResponseError as cause:
            raise errors.PublishError(f"redis refused events for {topic}: {cause}", context={"topic": topic, "address": context.address}) from cause
        failed = next((reply for reply in replies if isinstance(reply, Exception)), None)
        if failed is not None:
            raise errors.PublishError(f"redis did not accept every event for {topic}: {failed}", context={"topic": topic, "address": context.address}) from failed

    def close(self) -> None:
        """Stops publishing. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._on_close(self)

    def __enter__(self) -> RedisStreamsPublisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
