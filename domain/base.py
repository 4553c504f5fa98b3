"""What the record's aggregates share."""

from __future__ import annotations

from copy import copy
from typing import Any, Self

from eventsourcing.domain import Aggregate


def catalogue_name(event: Any) -> str:
    """The event's name in the catalogue (``SessionConvened``), whatever its class is called."""
    return str(getattr(type(event), "CATALOGUE_NAME", type(event).__qualname__))


class RecordAggregate(Aggregate):
    """An aggregate whose attributes are immutable values, or lists and dicts of them.

    Copying one (the repository hands out copies of cached aggregates) then needs to copy only
    its lists and dicts, not every value inside them: a session with thousands of statistics
    copies in microseconds, where a deep copy took milliseconds.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        clone = object.__new__(type(self))
        clone.__dict__.update(
            {
                name: copy(value) if isinstance(value, list | dict | set) else value
                for name, value in self.__dict__.items()
            }
        )
        return clone
