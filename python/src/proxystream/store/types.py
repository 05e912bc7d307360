"""What every store offers (the Python side of ``src/store/types.ts``)."""

from __future__ import annotations

from typing import Iterable, Protocol, Sequence, Union

from .lifetime import Readers

Buffer = Union[bytes, bytearray, memoryview]


class Store(Protocol):
    """A place that holds payloads by key, named by a stable ``id`` that events carry."""

    id: str

    def put(
        self,
        key: str,
        data: Buffer | Sequence[Buffer],
        *,
        readers: Readers | None = None,
        ttl_ms: float | None = None,
        lease_ms: float | None = None,
    ) -> None: ...

    def get(self, key: str, *, expected_size: int | None = None) -> Buffer | None: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> bool: ...

    def commit(self, keys: Iterable[str]) -> list[str]: ...

    def release(self, key: str, reader: str) -> bool: ...

    def close(self) -> None: ...
