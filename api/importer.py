"""``diprec import``: append a log exported by ``diprec events`` to an event store.

A line is never turned into the domain event it describes: its stored ``state`` is written
straight from its JSON. Each event type (a line's ``topic`` names its class, which must be an
event of the record's catalogue) gets a plan, worked out once from the class's fields and
annotations: the fields its data must have, in the order the library's mapper stores them, and
how each field's JSON value is checked and written in stored form. Text is checked to be text;
a partial date, period, decimal or UUID is parsed to check it, then written as its transcoding
writes it (``{"_type_": "partial_date", "_data_": "2024-05"}``; a date or period seen before
is not parsed again); evidence, places and representatives are objects of their text fields.
The state is then the bytes the mapper writes for the event the line describes (the tests hold
it to that), and a line the record could not have written is refused with its line number and
what is wrong with it.

Streams must continue where the store has them (version 1 for a new stream, no gaps, no
repeats). The rows are written in file order with one binary ``COPY``, in one transaction
under the event store's table lock: a refusal anywhere stores nothing. A store whose mapper
compresses or encrypts events is not imported into.
"""

from __future__ import annotations

import dataclasses
import re
import struct
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any, Union, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.utils import TopicError, get_topic, resolve_topic
from psycopg import Copy, sql

from api.database import Database
from domain.application import Records
from domain.dates import PartialDate, Period
from domain.session import SESSION_CORRECTABLE, STATISTIC_CORRECTABLE, Session
from domain.transcodings import TRANSCODINGS

EVENTS_TABLE = "diprec_events"

Writer = Callable[[Any], Any]
"""Checks one JSON value of a field and returns it as the event's stored JSON holds it."""

# How the library's mapper and the record's transcodings write values that JSON has no type for.
TRANSCODING: dict[Any, Transcoding] = {
    t.type: t for t in (*TRANSCODINGS, UUIDAsHex(), DecimalAsStr(), DatetimeAsISO())
}
DATETIME = TRANSCODING[datetime].name
UUID_HEX = TRANSCODING[UUID].name
# Values that recur throughout a log (dates, periods): each distinct one is parsed once.
RECURRING_VALUES = 65_536
# The envelope fields every event stores first, in this order, before its data.
CREATED_ENVELOPE = ("timestamp", "originator_topic", "recorded_by")
EVENT_ENVELOPE = ("timestamp", "recorded_by")
# Corrections carry a dict of changed fields: their types are those of the fields corrected,
# and a correction may clear a field.
CHANGEABLE: dict[type, tuple[tuple[type, ...], tuple[str, ...]]] = {
    Session.StatisticCorrected: ((Session.StatisticReported,), STATISTIC_CORRECTABLE),
    Session.Corrected: ((Session.Scheduled, Session.Convened), SESSION_CORRECTABLE),
}
# A moment as ``diprec events`` writes it, in UTC to the microsecond: ``datetime_iso`` writes
# it with "+00:00" for "Z". Others are parsed and written anew.
CANONICAL_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z", re.ASCII)
# PostgreSQL's binary COPY: a header (signature, flags, no extension), then each row as its
# field count and each field's length and bytes, then the end of the data.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
COPY_TRAILER = struct.pack("!h", -1)
COPY_CHUNK = 1 << 20


# The types a text field's JSON value may have: orjson makes text exactly ``str``.
TEXT: frozenset[type] = frozenset({str})
OPTIONAL_TEXT: frozenset[type] = frozenset({str, type(None)})


class ImportRefusedError(Exception):
    """The log cannot be imported; nothing was stored."""


class _BadValueError(ValueError):
    """A field's value is not one the field can hold; the message says what is wrong."""


@dataclass(frozen=True)
class Imported:
    events: int
    last_position: int


# --- writers: from a field's annotation, how its JSON value is checked and stored ------------


def _text(value: Any) -> str:
    if not isinstance(value, str):
        msg = f"{value!r} is not text"
        raise _BadValueError(msg)
    return value


def _whole_number(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"{value!r} is not a whole number"
        raise _BadValueError(msg)
    return value


def _optional(write: Writer) -> Writer:
    return lambda value: None if value is None else write(value)


def _list(write: Writer) -> Writer:
    def write_list(value: Any) -> list[Any]:
        if not isinstance(value, list):
            msg = f"{value!r} is not a list"
            raise _BadValueError(msg)
        return [write(item) for item in value]

    return write_list


def _mapping(write: Writer) -> Writer:
    def write_mapping(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            msg = f"{value!r} is not an object"
            raise _BadValueError(msg)
        return {key: write(item) for key, item in value.items()}

    return write_mapping


def _transcoded_text(
    hint: type, parse: Callable[[str], Any], what: str, *, recurring: bool
) -> Writer:
    """A value written as text in the log (``what`` it is), parsed to check it and stored as
    its transcoding writes it. ``parse`` raises ValueError saying what is wrong."""
    transcoding = TRANSCODING[hint]
    name = transcoding.name

    def stored(text: str) -> dict[str, Any]:
        try:
            value = parse(text)
        except ValueError as error:
            raise _BadValueError(str(error)) from None
        return {"_type_": name, "_data_": transcoding.encode(value)}

    store = lru_cache(maxsize=RECURRING_VALUES)(stored) if recurring else stored

    def write(value: Any) -> dict[str, Any]:
        if not isinstance(value, str):
            msg = f"{value!r} is not a {what} written as text"
            raise _BadValueError(msg)
        return store(value)

    return write


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        msg = f"{text!r} is not a decimal number"
        raise ValueError(msg) from None
    if not value.is_finite():
        msg = f"{text!r} is not a finite number"
        raise ValueError(msg)
    return value


def _uuid_bytes(value: Any) -> bytes | None:
    """The 16 bytes of a UUID written as text, as ``UUID(value)`` reads it; None if it is not
    one. As ``str(UUID)`` writes it (hex digits in hyphenated groups), it needs no parsing."""
    if not isinstance(value, str):
        return None
    if len(value) == 36 and value[8] == value[13] == value[18] == value[23] == "-":
        try:
            raw = bytes.fromhex(value.replace("-", ""))
        except ValueError:
            raw = b""
        if len(raw) == 16:  # any character but a hex digit would leave fewer bytes
            return raw
    try:
        return UUID(value).bytes
    except ValueError:
        return None


def _uuid(value: Any) -> Any:
    """A UUID, stored as ``uuid_hex`` writes it."""
    raw = _uuid_bytes(value)
    if raw is None:
        msg = f"{value!r} is not a UUID written as text"
        raise _BadValueError(msg)
    return {"_type_": UUID_HEX, "_data_": raw.hex()}


def _transcoded_record(hint: type) -> Writer:
    """A value type stored as an object of its fields (evidence, a place, a representative)."""
    name = TRANSCODING[hint].name
    hints = get_type_hints(hint)
    fields = tuple((f.name, _writer(hints[f.name])) for f in dataclasses.fields(hint))
    names = frozenset(hints)
    expected = ", ".join(hints)

    def write(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or value.keys() != names:
            msg = f"expected an object of {expected}, not {value!r}"
            raise _BadValueError(msg)
        return {"_type_": name, "_data_": {field: check(value[field]) for field, check in fields}}

    return write


@cache
def _writer(hint: Any) -> Writer:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        (option,) = options
        return _optional(_writer(option))
    if origin is list:
        (item,) = get_args(hint)
        return _list(_writer(item))
    if origin is dict:
        _, item = get_args(hint)
        return _mapping(_writer(item))
    if hint is str:
        return _text
    if hint is int:
        return _whole_number
    if hint is PartialDate:
        return _transcoded_text(PartialDate, PartialDate.parse, "partial date", recurring=True)
    if hint is Period:
        return _transcoded_text(Period, Period.parse, "period", recurring=True)
    if hint is Decimal:
        return _transcoded_text(Decimal, _decimal, "decimal number", recurring=False)
    if hint is UUID:
        return _uuid
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and hint in TRANSCODING:
        return _transcoded_record(hint)
    msg = f"no way to import a field of type {hint!r}"
    raise TypeError(msg)


def _changes(hints: dict[str, Any], changeable: tuple[str, ...]) -> Writer:
    writers = {name: _writer(hints[name] | None) for name in changeable}

    def write(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            msg = f"{value!r} is not an object of changed fields"
            raise _BadValueError(msg)
        stored: dict[str, Any] = {}
        for name, changed in value.items():
            if name not in writers:
                msg = f"{name!r} cannot be corrected; correctable: {', '.join(changeable)}"
                raise _BadValueError(msg)
            stored[name] = writers[name](changed)
        return stored

    return write


# --- plans: one per event type -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    """How the lines of one event type are checked and stored."""

    originator_topic: str | None
    """The aggregate's topic, stored by the event that starts a stream (``Created``)."""
    order: tuple[str, ...]
    """The data's fields, in the order the mapper stores them."""
    names: frozenset[str]
    texts: tuple[str, ...]
    """Fields stored as the text given (most of them): only their type is checked."""
    optional_texts: tuple[str, ...]
    converted: tuple[tuple[str, Writer], ...]
    """The other fields, each with its writer."""
    row: struct.Struct
    """The row's binary ``COPY`` up to its state: fields, stream, version, topic, length."""
    topic: bytes

    def state(self, data: Any, recorded_at: Any, recorded_by: Any) -> bytes:
        """The event's stored state: its envelope, then its data, as the mapper writes them."""
        if not isinstance(recorded_by, str):
            msg = f"recorded_by {recorded_by!r} is not text"
            raise ImportRefusedError(msg)
        state: dict[str, Any] = {"timestamp": {"_type_": DATETIME, "_data_": _moment(recorded_at)}}
        if self.originator_topic is not None:
            state["originator_topic"] = self.originator_topic
        state["recorded_by"] = recorded_by
        if not isinstance(data, dict):
            msg = f"data {data!r} is not an object"
            raise ImportRefusedError(msg)
        if tuple(data) == self.order:  # as ``diprec events`` writes it
            state.update(data)
        elif data.keys() == self.names:
            state.update((name, data[name]) for name in self.order)
        else:
            self.refuse_fields(data)
        # The types of all the text fields at once, in C; field by field only to say which.
        if not {*map(type, map(state.__getitem__, self.texts))} <= TEXT:
            for name in self.texts:
                if not isinstance(state[name], str):
                    _refuse_field(name, f"{state[name]!r} is not text")
        if not {*map(type, map(state.__getitem__, self.optional_texts))} <= OPTIONAL_TEXT:
            for name in self.optional_texts:
                if state[name] is not None and not isinstance(state[name], str):
                    _refuse_field(name, f"{state[name]!r} is not text")
        name = ""
        try:
            for name, write in self.converted:
                state[name] = write(state[name])
        except _BadValueError as error:
            _refuse_field(name, str(error))
        return orjson.dumps(state)

    def refuse_fields(self, data: dict[str, Any]) -> None:
        for name in self.order:
            if name not in data:
                msg = f"data has no field {name!r}"
                raise ImportRefusedError(msg)
        msg = f"data has unknown fields: {', '.join(sorted(data.keys() - self.names))}"
        raise ImportRefusedError(msg)


def _refuse_field(name: str, problem: str) -> None:
    msg = f"data field {name!r}: {problem}"
    raise ImportRefusedError(msg)


def _moment(recorded_at: Any) -> str:
    """When an event was recorded, as ``datetime_iso`` writes it."""
    if isinstance(recorded_at, str):
        try:
            moment = datetime.fromisoformat(recorded_at)
        except ValueError:
            pass
        else:
            if CANONICAL_TIMESTAMP.match(recorded_at):
                return recorded_at[:-1] + "+00:00"
            return moment.isoformat()
    msg = f"recorded_at {recorded_at!r} is not an ISO 8601 timestamp"
    raise ImportRefusedError(msg)


def _is_catalogued_event(cls: Any, topic: str) -> bool:
    return (
        isinstance(cls, type)
        and hasattr(cls, "CATALOGUE_NAME")
        and dataclasses.is_dataclass(cls)
        and get_topic(cls) == topic
    )


@cache
def _plan(topic: str) -> _Plan:
    """The plan for the events ``topic`` names; refused unless it is an event of the record."""
    refusal = ImportRefusedError(f"topic {topic!r} is not an event of this record")
    if not topic.startswith("domain."):
        raise refusal
    try:
        cls = resolve_topic(topic)
    except TopicError:
        raise refusal from None
    if not _is_catalogued_event(cls, topic):
        raise refusal
    hints = get_type_hints(cls)
    stored = [f.name for f in dataclasses.fields(cls)][2:]  # after originator id and version
    envelope = CREATED_ENVELOPE if "originator_topic" in stored else EVENT_ENVELOPE
    if tuple(stored[: len(envelope)]) != envelope or getattr(cls, "class_version", 1) != 1:
        msg = f"{topic}: the mapper would store {stored}, which this importer does not write"
        raise TypeError(msg)
    order = tuple(stored[len(envelope) :])
    converted = []
    for name in order:
        if name == "changes" and cls in CHANGEABLE:
            changed, changeable = CHANGEABLE[cls]
            merged = {k: v for c in changed for k, v in get_type_hints(c).items()}
            converted.append((name, _changes(merged, changeable)))
        elif hints[name] not in (str, str | None):
            converted.append((name, _writer(hints[name])))
    encoded = topic.encode()
    return _Plan(
        originator_topic=topic.rsplit(".", 1)[0] if envelope is CREATED_ENVELOPE else None,
        order=order,
        names=frozenset(order),
        texts=tuple(name for name in order if hints[name] is str),
        optional_texts=tuple(name for name in order if hints[name] == str | None),
        converted=tuple(converted),
        row=struct.Struct(f"!hi16siqi{len(encoded)}si"),
        topic=encoded,
    )


# --- lines and rows ----------------------------------------------------------------------------


def _stream(value: Any) -> bytes:
    """A stream id's 16 bytes."""
    raw = _uuid_bytes(value)
    if raw is None:
        msg = f"stream {value!r} is not a UUID"
        raise ImportRefusedError(msg)
    return raw


def _row(line: str | bytes) -> tuple[bytes, int, _Plan, bytes]:
    """The stream, version, plan and stored state of the event a line describes; refused,
    saying what is wrong, if the record could not have written it."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        msg = f"not JSON ({error})"
        raise ImportRefusedError(msg) from None
    if not isinstance(record, dict):
        msg = "not an event: a line holds one JSON object"
        raise ImportRefusedError(msg)
    try:
        topic, stream, version = record["topic"], record["stream"], record["version"]
        data, recorded_at, recorded_by = (
            record["data"],
            record["recorded_at"],
            record["recorded_by"],
        )
    except KeyError as error:
        msg = f"not an event: it has no {error}"
        raise ImportRefusedError(msg) from None
    if not isinstance(topic, str):
        msg = f"topic {topic!r} is not an event of this record"
        raise ImportRefusedError(msg)
    plan = _plan(topic)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        msg = f"version {version!r} is not a version (a whole number from 1)"
        raise ImportRefusedError(msg)
    return _stream(stream), version, plan, plan.state(data, recorded_at, recorded_by)


def _copy(copy: Copy, lines: Iterable[str | bytes], versions: dict[bytes, int]) -> int:
    """Writes the row of each line to ``copy`` in PostgreSQL's binary format, checking that
    each stream continues where ``versions`` has it; returns how many rows it wrote."""
    count = 0
    chunk = bytearray(COPY_HEADER)
    for number, line in enumerate(lines, start=1):
        if not line or line.isspace():
            continue
        try:
            stream, version, plan, state = _row(line)
        except ImportRefusedError as error:
            msg = f"line {number}: {error}"
            raise ImportRefusedError(msg) from None
        expected = versions.get(stream, 0) + 1
        if version != expected:
            msg = (
                f"line {number}: stream {UUID(bytes=stream)} version {version} conflicts "
                f"with the store: the stream's next version is {expected}"
            )
            raise ImportRefusedError(msg)
        versions[stream] = version
        chunk += plan.row.pack(4, 16, stream, 8, version, len(plan.topic), plan.topic, len(state))
        chunk += state
        count += 1
        if len(chunk) >= COPY_CHUNK:
            copy.write(chunk)
            chunk = bytearray()
    copy.write(chunk + COPY_TRAILER)
    return count


def _stores_as_planned(records: Records) -> bool:
    """Whether the record's mapper stores events as the plans write them: JSON with these
    transcodings, neither compressed nor encrypted."""
    mapper = records.mapper
    transcoder = mapper.transcoder
    return (
        mapper.compressor is None
        and mapper.cipher is None
        and isinstance(transcoder, JSONTranscoder)
        and all(type(transcoder.types.get(t)) is type(x) for t, x in TRANSCODING.items())
    )


def import_log(
    database: Database, records: Records, lines: Iterable[str] | Iterable[bytes]
) -> Imported:
    """Appends the events of an exported log in order, all or nothing.

    Lines are checked and written as they are copied in, so the log never sits in memory
    whole; any refusal rolls the transaction back. Lines may be text or UTF-8 bytes (read
    from a file opened in binary, they are parsed without being decoded first).
    """
    if not _stores_as_planned(records):
        msg = "the event store compresses, encrypts or transcodes events unlike the record"
        raise ImportRefusedError(msg)
    table = sql.Identifier(EVENTS_TABLE)
    with database.connect() as connection, connection.transaction():
        connection.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
        versions: dict[bytes, int] = {
            row[0].bytes: row[1]
            for row in connection.execute(
                sql.SQL("SELECT originator_id, max(originator_version) FROM {} GROUP BY 1").format(
                    table
                )
            )
        }
        with connection.cursor() as cursor:
            statement = sql.SQL(
                "COPY {} (originator_id, originator_version, topic, state) "
                "FROM STDIN (FORMAT BINARY)"
            ).format(table)
            with cursor.copy(statement) as copy:
                count = _copy(copy, lines, versions)
            cursor.execute(
                sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(table)
            )
            position = cursor.fetchone()
            cursor.execute(sql.SQL("NOTIFY {}").format(table))
    return Imported(count, int(position[0]) if position else 0)
