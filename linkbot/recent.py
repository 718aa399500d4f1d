"""Ids seen lately, to tell a delivery repeated within minutes from a new one."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

Id = TypeVar("Id", bound=Hashable)


class RecentIds(Generic[Id]):
    """The last ``limit`` ids remembered, oldest forgotten first: a fixed amount of memory."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._ids: OrderedDict[Id, None] = OrderedDict()

    def __contains__(self, id_: object) -> bool:
        return id_ in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, id_: Id) -> None:
        self._ids[id_] = None
        while len(self._ids) > self._limit:
            self._ids.popitem(last=False)
