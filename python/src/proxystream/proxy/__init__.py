"""Refs and the stores they resolve against."""

from .ref import Ref
from .store_registry import StoreRegistry

__all__ = ["Ref", "StoreRegistry"]
