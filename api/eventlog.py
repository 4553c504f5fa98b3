"""The log as clients see it: events in record order, each with its catalogue name and data.

Used by ``GET /events`` (the audit feed) and ``diprec events`` (NDJSON export), so both show
one format.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eventsourcing.persistence import Notification

from api.views import EventView
from domain.application import Records
from projections.values import event_data, timestamp


def event_view(records: Records, notification: Notification) -> EventView:
    event: Any = records.mapper.to_domain_event(notification)
    fields = vars(event)
    return EventView(
        position=notification.id,
        type=records.event_type(event),
        stream=event.originator_id,
        version=event.originator_version,
        recorded_at=timestamp(event.timestamp),
        recorded_by=str(fields.get("recorded_by", "")),
        topic=notification.topic,
        data=event_data(event),
    )


def read_events(records: Records, after: int, limit: int) -> list[EventView]:
    notifications = records.recorder.select_notifications(
        start=after, limit=limit, inclusive_of_start=False
    )
    return [event_view(records, n) for n in notifications]


def iter_events(records: Records, after: int = 0, batch: int = 1000) -> Iterator[EventView]:
    """Every event after ``after``, read in batches so the log never sits in memory whole."""
    while True:
        page = read_events(records, after, batch)
        yield from page
        if len(page) < batch:
            return
        after = page[-1].position
