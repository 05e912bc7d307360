"""Lifetimes of stored objects, as ``src/store/lifetime.ts``.

An object is deleted when every named reader group has released it (or ``readers`` distinct groups have,
when a count is given), or when ``ttl_ms`` runs out after the commit, whichever comes first. A put with
``lease_ms`` expires that soon unless :meth:`commit` is called once the broker accepted the event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, Union

from ..errors import ConfigError

Readers = Union[Sequence[str], int]


@dataclass(frozen=True)
class Lifetime:
    """Validated lifetime options of one put."""

    readers: list[str] | int | None = None
    ttl_ms: float | None = None
    lease_ms: float | None = None

    @property
    def first_expiry_ms(self) -> float | None:
        """The expiry a put starts with: the lease, else the TTL, else none."""
        return self.lease_ms if self.lease_ms is not None else self.ttl_ms


def lifetime(readers: Readers | None = None, ttl_ms: float | None = None, lease_ms: float | None = None) -> Lifetime:
    """Validates put options; raises :class:`ConfigError` on bad ones."""
    checked: list[str] | int | None = None
    if readers is not None:
        if isinstance(readers, int) and not isinstance(readers, bool):
            if readers < 1:
                raise ConfigError("lifetime readers must be a positive integer or a list of group names")
            checked = readers
        elif isinstance(readers, (list, tuple)) and readers and all(isinstance(r, str) and r for r in readers):
            checked = list(dict.fromkeys(readers))
        else:
            raise ConfigError("lifetime readers must be a non-empty list of group names")
    for name, value in (("ttlMs", ttl_ms), ("leaseMs", lease_ms)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0):
            raise ConfigError(f"{name} must be a positive number of ms")
    return Lifetime(readers=checked, ttl_ms=ttl_ms, lease_ms=lease_ms)
