"""Build hook: packages the Lua scripts the TypeScript engine runs, so both languages run the same files.

The RedisStore's live in the repository's ``src/store/redis/``, the Redis Streams broker's in
``src/broker-adapters/redis-streams/``. A wheel gets them under ``proxystream/store/redis/lua/`` and
``proxystream/broker/redis_streams/lua/``; an sdist under ``src/`` plus the same paths, where a wheel built
from it finds them as package files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# Folder of the TypeScript source -> folder in the package.
LUA_DIRS = {
    "src/store/redis": "proxystream/store/redis/lua",
    "src/broker-adapters/redis-streams": "proxystream/broker/redis_streams/lua",
}


class LuaScriptsHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        for source_dir, package_dir in LUA_DIRS.items():
            source = Path(self.root).parent / source_dir
            target = package_dir if self.target_name == "wheel" else f"src/{package_dir}"
            for script in sorted(source.glob("*.lua")):
                build_data["force_include"][str(script)] = f"{target}/{script.name}"
