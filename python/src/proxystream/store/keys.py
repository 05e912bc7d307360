"""Store keys, as ``src/store/keys.ts``: safe as a Redis key part and as a file name."""

from __future__ import annotations

import json
import re

from ..errors import InvalidKeyError

_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}")


def assert_valid_key(key: object, store_id: str | None = None) -> str:
    """``key`` when it is 1-255 characters of ``[A-Za-z0-9._-]`` not starting with a dot; else :class:`InvalidKeyError`."""
    if not isinstance(key, str) or _KEY.fullmatch(key) is None:
        shown = json.dumps(str(key), ensure_ascii=False)[:80]
        raise InvalidKeyError(
            f"invalid store key {shown}: use 1-255 characters of [A-Za-z0-9._-], not starting with a dot",
            context={"storeId": store_id},
        )
    return key
