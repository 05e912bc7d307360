"""The stores this process configured, by id (as ``src/proxy/store-registry.ts``).

Events can only name a store id: resolving a ref looks it up here and never opens a connection or
loads code on an event's say-so.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from ..errors import ConfigError, UnknownStoreError
from ..store.types import Store


class StoreRegistry:
    """Stores by id; a context manager that closes them all."""

    def __init__(self, stores: Iterable[Store] = ()) -> None:
        self._stores: dict[str, Store] = {}
        for store in stores:
            self.add(store)

    def add(self, store: Store) -> StoreRegistry:
        """Adds a store; a second store with the same id is a :class:`ConfigError`."""
        if store.id in self._stores:
            raise ConfigError(f"two stores share the id {store.id}", context={"storeId": store.id})
        self._stores[store.id] = store
        return self

    def get(self, store_id: str) -> Store:
        """The store with this id; :class:`UnknownStoreError` when none is configured."""
        store = self._stores.get(store_id)
        if store is None:
            configured = ", ".join(self._stores) or "none"
            raise UnknownStoreError(f"no store with id {store_id!r} is configured here (configured: {configured})", context={"storeId": store_id})
        return store

    def __contains__(self, store_id: object) -> bool:
        return store_id in self._stores

    def __iter__(self) -> Iterator[Store]:
        return iter(self._stores.values())

    def close(self) -> None:
        """Closes every store."""
        for store in self._stores.values():
            store.close()

    def __enter__(self) -> StoreRegistry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
