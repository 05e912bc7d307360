"""Event metadata: plain data only, within depth and size limits (as ``src/wire/metadata.ts``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Union

from ..errors import LimitExceededError

MetadataValue = Union[None, bool, int, float, str, bytes, List["MetadataValue"], Dict[str, "MetadataValue"]]
Metadata = Dict[str, MetadataValue]

_SCALARS = (str, bytes, bytearray, memoryview, bool, int, float)


@dataclass(frozen=True)
class MetadataLimits:
    """Limits checked on metadata when encoding and decoding."""

    max_depth: int = 8
    """Deepest nesting of lists/dicts."""
    max_entries: int = 4096
    """Most keys plus list elements in total."""


DEFAULT_METADATA_LIMITS = MetadataLimits()


def metadata_problem(value: object, limits: MetadataLimits = DEFAULT_METADATA_LIMITS) -> str | None:
    """Why ``value`` is not plain metadata within ``limits``, or None when it is.

    Plain data is None, booleans, numbers, strings, bytes, lists (or tuples) and dicts with string keys.
    Iterative, so hostile nesting cannot exhaust the stack.
    """
    if not isinstance(value, dict):
        return "metadata must be a plain object"
    stack: list[tuple[Any, int]] = [(value, 1)]
    entries = 0
    while stack:
        current, depth = stack.pop()
        if depth > limits.max_depth:
            return f"metadata nests deeper than {limits.max_depth}"
        if isinstance(current, dict):
            if not all(isinstance(key, str) for key in current):
                return "metadata keys must be strings"
            children = list(current.values())
        else:
            children = list(current)
        entries += len(children)
        if entries > limits.max_entries:
            return f"metadata has more than {limits.max_entries} entries"
        for child in children:
            if child is None or isinstance(child, _SCALARS):
                continue
            if isinstance(child, (list, tuple, dict)):
                stack.append((child, depth + 1))
                continue
            return (
                f"metadata holds a value of type {type(child).__name__}; only None, booleans, numbers, "
                "strings, bytes, lists and dicts are allowed"
            )
    return None


def assert_metadata(metadata: object, limits: MetadataLimits = DEFAULT_METADATA_LIMITS) -> None:
    """Raises :class:`LimitExceededError` when ``metadata`` is not plain data within the limits."""
    problem = metadata_problem(metadata, limits)
    if problem is not None:
        raise LimitExceededError(problem)
