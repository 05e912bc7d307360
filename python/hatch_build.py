"""Build hook: packages the Lua scripts the TypeScript RedisStore runs, so both languages run the same files.

They live in the repository's ``src/store/redis/``. A wheel gets them under ``proxystream/store/redis/lua/``;
an sdist under ``src/proxystream/store/redis/lua/``, where a wheel built from it finds them as package files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE_DIR = "proxystream/store/redis/lua"


class LuaScriptsHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        source = Path(self.root).parent / "src" / "store" / "redis"
        target = PACKAGE_DIR if self.target_name == "wheel" else f"src/{PACKAGE_DIR}"
        for script in sorted(source.glob("*.lua")):
            build_data["force_include"][str(script)] = f"{target}/{script.name}"
