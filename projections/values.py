"""Domain values as the read models store them: JSON-ready, dates as text and sortable days."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.dates import PartialDate, Period


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def decimal_text(value: Decimal) -> str:
    """A decimal in plain notation (``4400000000``), as the API writes amounts."""
    return format(value, "f")


def plain(value: Any) -> Any:
    """A stored value as JSON: partial dates and periods as text, decimals as strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, PartialDate | Period | UUID):
        return str(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return str(value)


#: Fields every stored event has that are shown under names of their own, not in its data.
EVENT_ENVELOPE = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "recorded_by"}
)


def event_data(event: Any) -> dict[str, Any]:
    """An event's own fields (its envelope left out) as JSON."""
    return {name: plain(value) for name, value in vars(event).items() if name not in EVENT_ENVELOPE}


def span(value: PartialDate | Period | None) -> tuple[str | None, date | None, date | None]:
    """A date as text, and the first and last day it covers, for sorting and filtering."""
    if value is None:
        return None, None, None
    return str(value), value.first_day, value.last_day
