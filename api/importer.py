"""``diprec import``: append a log exported by ``diprec events`` to an event store.

Each line is decoded into the domain event it describes (its ``topic`` names the class, its
``data`` the fields, typed by the class's annotations), so a line the record could not have
written is refused with its line number. Streams must continue where the store has them
(version 1 for a new stream, no gaps, no repeats). The events are then written in file order
in one transaction under the event store's table lock: a conflict anywhere stores nothing.
"""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Union, get_args, get_origin, get_type_hints
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic
from psycopg import sql

from api.database import Database
from domain.application import Records
from domain.dates import PartialDate, Period
from domain.session import Session
from domain.values import Evidence, Place, Representative
from projections.values import EVENT_ENVELOPE

EVENTS_TABLE = "diprec_events"
VALUE_TYPES: dict[Any, Any] = {
    PartialDate: PartialDate.parse,
    Period: Period.parse,
    Decimal: Decimal,
    UUID: UUID,
    datetime: datetime.fromisoformat,
    Evidence: lambda data: Evidence(**data),
    Place: lambda data: Place(**data),
    Representative: lambda data: Representative(**data),
}


class ImportRefusedError(Exception):
    """The log cannot be imported; nothing was stored."""


@dataclass(frozen=True)
class Imported:
    events: int
    last_position: int


def _identity(value: Any) -> Any:
    return value


@cache
def _converter(hint: Any) -> Callable[[Any], Any]:
    """How to turn a JSON value into a value of ``hint``, worked out once per type."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(options) != 1:
            return _identity
        inner = _converter(options[0])
        return lambda value: None if value is None else inner(value)
    if origin is list:
        (item,) = get_args(hint)
        each = _converter(item)
        return lambda value: None if value is None else [each(v) for v in value]
    if origin is dict:
        _, item = get_args(hint)
        each = _converter(item)
        return lambda value: None if value is None else {k: each(v) for k, v in value.items()}
    if hint in VALUE_TYPES:
        make = VALUE_TYPES[hint]
        return lambda value: None if value is None else make(value)
    return _identity


def _convert(value: Any, hint: Any) -> Any:
    return _converter(hint)(value)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


@cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls)) - EVENT_ENVELOPE


@cache
def _event_class(topic: str) -> type:
    if not topic.startswith("domain."):
        msg = f"topic {topic!r} is not an event of this record"
        raise ImportRefusedError(msg)
    cls: type = resolve_topic(topic)
    return cls


# Corrections carry a dict of changed fields: their types are those of the fields corrected.
CHANGE_HINTS: dict[type, dict[str, Any]] = {
    Session.StatisticCorrected: _hints(Session.StatisticReported),
    Session.Corrected: {**_hints(Session.Scheduled), **_hints(Session.Convened)},
}


def decode_line(line: str, number: int) -> Any:
    """The domain event a line of ``diprec events`` describes."""
    try:
        record = json.loads(line)
        topic = record["topic"]
        if not isinstance(topic, str):
            msg = f"topic {topic!r} is not an event of this record"
            raise ImportRefusedError(msg)
        cls = _event_class(topic)
        hints = _hints(cls)
        data = dict(record["data"])
        fields: dict[str, Any] = {}
        for name in _field_names(cls):
            if name not in data:
                msg = f"data has no field {name!r}"
                raise ImportRefusedError(msg)
            value = data.pop(name)
            if name == "changes" and cls in CHANGE_HINTS:
                fields[name] = {k: _convert(v, CHANGE_HINTS[cls][k]) for k, v in value.items()}
            else:
                fields[name] = _convert(value, hints[name])
        if data:
            msg = f"data has unknown fields: {', '.join(sorted(data))}"
            raise ImportRefusedError(msg)
        if "originator_topic" in {f.name for f in dataclasses.fields(cls)}:
            fields["originator_topic"] = topic.rsplit(".", 1)[0]
        return cls(
            originator_id=UUID(record["stream"]),
            originator_version=int(record["version"]),
            timestamp=datetime.fromisoformat(record["recorded_at"]),
            recorded_by=str(record["recorded_by"]),
            **fields,
        )
    except ImportRefusedError as error:
        msg = f"line {number}: {error}"
        raise ImportRefusedError(msg) from None
    except (ValueError, KeyError, TypeError, AttributeError, ImportError) as error:
        msg = f"line {number}: not an event of this record ({type(error).__name__}: {error})"
        raise ImportRefusedError(msg) from None


def _stored_events(records: Records, lines: Iterable[str]) -> Iterator[StoredEvent]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield records.mapper.to_stored_event(decode_line(line, number))


def import_log(database: Database, records: Records, lines: Iterable[str]) -> Imported:
    """Appends the events of an exported log in order, all or nothing.

    Lines are decoded and checked as they are copied in, so the log never sits in memory
    whole; any refusal rolls the transaction back.
    """
    table = sql.Identifier(EVENTS_TABLE)
    count = 0
    with database.connect() as connection, connection.transaction():
        connection.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
        versions: dict[UUID, int] = {
            row[0]: row[1]
            for row in connection.execute(
                sql.SQL("SELECT originator_id, max(originator_version) FROM {} GROUP BY 1").format(
                    table
                )
            )
        }
        with connection.cursor() as cursor:
            statement = sql.SQL(
                "COPY {} (originator_id, originator_version, topic, state) FROM STDIN"
            ).format(table)
            with cursor.copy(statement) as copy:
                for event in _stored_events(records, lines):
                    count += 1
                    stream = UUID(str(event.originator_id))
                    expected = versions.get(stream, 0) + 1
                    if event.originator_version != expected:
                        msg = (
                            f"event {count} (stream {stream}, version "
                            f"{event.originator_version}) conflicts with the store: the "
                            f"stream's next version is {expected}"
                        )
                        raise ImportRefusedError(msg)
                    versions[stream] = expected
                    copy.write_row(
                        (event.originator_id, event.originator_version, event.topic, event.state)
                    )
            cursor.execute(
                sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(table)
            )
            row = cursor.fetchone()
            cursor.execute(sql.SQL("NOTIFY {}").format(table))
    return Imported(count, int(row[0]) if row else 0)
