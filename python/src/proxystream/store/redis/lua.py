"""Lua scripts: the very files the TypeScript engine runs (``<name>-<keys>.lua``).

A wheel carries the RedisStore's under ``proxystream/store/redis/lua/`` and the Redis Streams broker's
under ``proxystream/broker/redis_streams/lua/``; a source checkout (an editable install) reads them from
the repository's ``src/store/redis/`` and ``src/broker-adapters/redis-streams/``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import redis
from redis.cluster import RedisCluster

from ...errors import ConfigError

_NAME = re.compile(r"(.+)-(\d+)\.lua")
REPOSITORY = Path(__file__).resolve().parents[5]
"""The repository root of a source checkout (where the TypeScript source lives)."""
_SOURCE_DIR = REPOSITORY / "src" / "store" / "redis"


@dataclass(frozen=True)
class LuaScript:
    name: str
    number_of_keys: int
    source: str
    sha: str


def load_lua(file_name: str, package: str = __package__, source_dir: Path = _SOURCE_DIR) -> LuaScript:
    """Reads ``file_name`` from ``package``'s ``lua/`` folder, else from ``source_dir`` of the TypeScript source."""
    match = _NAME.fullmatch(file_name)
    if match is None:
        raise ConfigError(f"Lua file {file_name} must be named <name>-<numberOfKeys>.lua")
    packaged = resources.files(package).joinpath("lua", file_name)
    if packaged.is_file():
        source = packaged.read_text(encoding="utf-8")
    elif (source_dir / file_name).is_file():
        source = (source_dir / file_name).read_text(encoding="utf-8")
    else:
        raise ConfigError(f"Lua file {file_name} is neither in the package nor in {source_dir}")
    sha = hashlib.sha1(source.encode("utf-8")).hexdigest()
    return LuaScript(name=match.group(1), number_of_keys=int(match.group(2)), source=source, sha=sha)


def queue_lua(pipeline: Any, script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> None:
    """Queues ``script`` on ``pipeline`` by EVALSHA; give its reply to :func:`settle_lua`."""
    if not keys or len(keys) % script.number_of_keys != 0:
        raise ConfigError(f"Lua script {script.name} takes {script.number_of_keys} keys (per object), got {len(keys)}")
    pipeline.evalsha(script.sha, len(keys), *keys, *args)


def settle_lua(client: redis.Redis | RedisCluster, reply: object, script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> Any:
    """The reply of a queued script, or the script run by EVAL when the server did not know it; raises other errors."""
    if isinstance(reply, redis.exceptions.NoScriptError):
        return client.eval(script.source, len(keys), *keys, *args)
    if isinstance(reply, Exception):
        raise reply
    return reply
