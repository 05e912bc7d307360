"""A lazy reference to a payload (as ``src/proxy/ref.ts``)."""

from __future__ import annotations

from concurrent.futures import CancelledError, Executor, Future
from typing import Union

from ..allocator import note_read
from ..errors import CorruptPayloadError, MissingPayloadError
from ..store.types import Buffer
from ..wire import InlinePayload, RefPayload, checksum, decode_payload
from .store_registry import StoreRegistry

Payload = Union[InlinePayload, RefPayload]


class Ref:
    """Inline bytes, or an object in a store named by id.

    :meth:`resolve` fetches (once; later calls reuse the bytes), verifies size and xxh64 checksum,
    and decodes with the payload's codec: an ndarray payload becomes a read-only numpy view of the fetched
    bytes, a ``bytes`` payload ``bytes`` (one copy; :meth:`view` gives them without one). A missing object
    raises :class:`MissingPayloadError`, a size or checksum mismatch :class:`CorruptPayloadError`, an
    unconfigured store id ``UnknownStoreError``.
    """

    def __init__(self, payload: Payload, stores: StoreRegistry | None = None) -> None:
        self.payload = payload
        self._stores = stores
        self._data: Buffer | None = None
        self._pending: Future[Buffer] | None = None

    @property
    def inline(self) -> bool:
        """True when the payload travelled inside the event."""
        return isinstance(self.payload, InlinePayload)

    @property
    def size(self) -> int:
        """Payload size in bytes."""
        return len(self.payload.data) if isinstance(self.payload, InlinePayload) else self.payload.size

    @property
    def codec(self) -> str:
        return self.payload.codec

    def view(self) -> memoryview:
        """The verified payload bytes as a read-only ``memoryview``, without a copy."""
        return memoryview(self._verified()).toreadonly()

    def bytes(self) -> bytes:
        """The verified payload bytes as ``bytes`` (copied once, and kept, when the store returned another buffer)."""
        data = self._verified()
        if isinstance(data, bytes):
            return data
        copied = bytes(data)
        self._data = copied
        return copied

    def resolve(self) -> object:
        """The verified, decoded payload (an ndarray payload is a read-only numpy view of the fetched bytes)."""
        if self.payload.codec == "bytes":
            return self.bytes()
        return decode_payload(self._verified(), self.payload.codec)

    def prefetch(self, executor: Executor) -> None:
        """Starts fetching and verifying the payload on ``executor`` (a consumer's read-ahead); the next
        :meth:`resolve` waits for it and raises what the fetch raised. Does nothing for an inline payload or
        one fetched or being fetched already."""
        if isinstance(self.payload, InlinePayload) or self._data is not None or self._pending is not None:
            return
        self._pending = executor.submit(self._fetch_verified, self.payload)

    def forget(self) -> None:
        """Drops fetched bytes (and a prefetch not started yet); a later resolve fetches again."""
        self._data = None
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _verified(self) -> Buffer:
        if isinstance(self.payload, InlinePayload):
            return self.payload.data
        if self._data is None:
            pending, self._pending = self._pending, None
            try:
                self._data = pending.result() if pending is not None else None
            except CancelledError:
                pass
            if self._data is None:
                self._data = self._fetch_verified(self.payload)
        return self._data

    def _fetch_verified(self, payload: RefPayload) -> Buffer:
        context = {"storeId": payload.store_id, "key": payload.key}
        if self._stores is None:
            raise MissingPayloadError("this ref has no store registry to resolve against", context=context)
        note_read(payload.size)
        data = self._stores.get(payload.store_id).get(payload.key, expected_size=payload.size)
        if data is None:
            raise MissingPayloadError(f"payload {payload.key} is not in store {payload.store_id}", context=context)
        if len(data) != payload.size:
            raise CorruptPayloadError(f"payload {payload.key} has {len(data)} bytes, its ref says {payload.size}", context=context)
        actual = checksum(data)
        if actual != payload.checksum:
            raise CorruptPayloadError(f"payload {payload.key} checksum {actual} does not match {payload.checksum}", context=context)
        return data
