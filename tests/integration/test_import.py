"""``diprec import`` on real PostgreSQL: what it stores, and what it refuses.

The importer writes each event's stored state straight from the line's JSON. What it stores
must be what the library stores for the event the line describes: ``library_event`` below
builds that event the library's way (the class's fields, typed by its annotations, each value
made by its type), and the event's mapper writes the expected row.
"""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from psycopg import sql

from api.database import Database
from api.importer import EVENTS_TABLE, ImportRefusedError, import_log
from bench.generate import generate
from domain.application import Records
from domain.commission import Commission
from domain.dates import PartialDate, Period
from domain.session import Session
from domain.source import Source
from domain.statistic_index import StatisticIndex
from domain.values import Evidence, Place, Representative

pytestmark = pytest.mark.postgres

GOLDEN_LOGS = Path(__file__).resolve().parents[1] / "golden" / "logs"
EVENT_TYPES = {
    get_topic(cls)
    for aggregate in (Source, Commission, Session, StatisticIndex)
    for cls in vars(aggregate).values()
    if isinstance(cls, type) and hasattr(cls, "CATALOGUE_NAME")
}

# --- the library's way --------------------------------------------------------------------------

MAKE: dict[Any, Callable[[Any], Any]] = {
    PartialDate: PartialDate.parse,
    Period: Period.parse,
    Decimal: Decimal,
    UUID: UUID,
    Evidence: lambda data: Evidence(**data),
    Place: lambda data: Place(**data),
    Representative: lambda data: Representative(**data),
}
# A correction's changed fields have the types of the fields they change.
CHANGED: dict[type, dict[str, Any]] = {
    Session.StatisticCorrected: get_type_hints(Session.StatisticReported),
    Session.Corrected: {
        **get_type_hints(Session.Scheduled),
        **get_type_hints(Session.Convened),
    },
}


def _value(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
        return _value(value, inner)
    if origin is list:
        return [_value(item, get_args(hint)[0]) for item in value]
    if origin is dict:
        return {key: _value(item, get_args(hint)[1]) for key, item in value.items()}
    return MAKE.get(hint, lambda same: same)(value)


def library_event(line: str) -> Any:
    """The domain event a line of ``diprec events`` describes, made as the library makes it."""
    record = json.loads(line)
    cls = resolve_topic(record["topic"])
    hints = get_type_hints(cls)
    fields = {
        name: (
            {k: _value(v, CHANGED[cls][k]) for k, v in value.items()}
            if name == "changes"
            else _value(value, hints[name])
        )
        for name, value in record["data"].items()
    }
    if "originator_topic" in {f.name for f in dataclasses.fields(cls)}:
        fields["originator_topic"] = record["topic"].rsplit(".", 1)[0]
    return cls(
        originator_id=UUID(record["stream"]),
        originator_version=record["version"],
        timestamp=datetime.fromisoformat(record["recorded_at"]),
        recorded_by=record["recorded_by"],
        **fields,
    )


def stored_rows(database: Database) -> list[StoredEvent]:
    with database.connect() as connection:
        rows = connection.execute(
            sql.SQL(
                "SELECT originator_id, originator_version, topic, state FROM {} "
                "ORDER BY notification_id"
            ).format(sql.Identifier(EVENTS_TABLE))
        ).fetchall()
    return [StoredEvent(*row) for row in rows]


def assert_stored_as_the_library_stores(
    database: Database, records: Records, lines: Iterable[str], *, as_bytes: bool = False
) -> None:
    events = [line for line in lines if line.strip()]
    if as_bytes:
        imported = import_log(database, records, [line.encode() + b"\n" for line in events])
    else:
        imported = import_log(database, records, events)

    expected = [records.mapper.to_stored_event(library_event(line)) for line in events]
    stored = stored_rows(database)
    assert imported.events == len(events)
    assert len(stored) == len(expected)
    for number, (row, wanted) in enumerate(zip(stored, expected, strict=True), start=1):
        assert row == wanted, f"event {number} is not stored as the library stores it"


# --- identical storage --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["demo", "corrections", "second_commission"])
def test_every_event_of_a_golden_log_is_stored_as_the_library_stores_it(
    name: str, database: Database, pg_records: Records
) -> None:
    lines = (GOLDEN_LOGS / f"{name}.ndjson").read_text(encoding="utf-8").splitlines()

    assert_stored_as_the_library_stores(database, pg_records, lines)


def test_lines_read_as_bytes_are_stored_as_lines_read_as_text(
    database: Database, pg_records: Records
) -> None:
    """``diprec import`` reads its file in binary; non-ASCII text must survive that."""
    lines = (GOLDEN_LOGS / "second_commission.ndjson").read_text(encoding="utf-8").splitlines()
    assert any(not line.isascii() for line in lines)

    assert_stored_as_the_library_stores(database, pg_records, lines, as_bytes=True)


def test_every_event_of_a_generated_log_of_every_type_is_stored_as_the_library_stores_it(
    database: Database, pg_records: Records, tmp_path: Path
) -> None:
    log = tmp_path / "log.ndjson"
    generate(log, events=5_000, hot_commission_events=1_250)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["topic"] for line in lines} == EVENT_TYPES

    assert_stored_as_the_library_stores(database, pg_records, lines)


def _rewritten(line: str, change: Callable[[dict[str, Any]], None]) -> str:
    record = json.loads(line)
    change(record)
    return json.dumps(record, ensure_ascii=True)


def _reordered(record: dict[str, Any]) -> None:
    record["data"] = dict(reversed(record["data"].items()))
    for item in record["data"].get("evidence", []):
        item["source"] = item.pop("source")


def _upper_case_ids(record: dict[str, Any]) -> None:
    record["stream"] = "{" + record["stream"].upper() + "}"
    if "statistic_id" in record["data"]:
        record["data"]["statistic_id"] = record["data"]["statistic_id"].replace("-", "").upper()


def _offset_timestamp(record: dict[str, Any]) -> None:
    record["recorded_at"] = record["recorded_at"].replace("Z", "+00:00")


def _whole_second(record: dict[str, Any]) -> None:
    record["recorded_at"] = record["recorded_at"][:19] + "+02:00"


def _unwritten_forms(record: dict[str, Any]) -> None:
    data = record["data"]
    if record["type"] == "StatisticReported":
        data["value"] = "4.4E9"
        data["period"] = "2023/2023"


@pytest.mark.parametrize(
    "change",
    [_reordered, _upper_case_ids, _offset_timestamp, _whole_second, _unwritten_forms],
)
def test_lines_written_unlike_the_export_are_stored_as_the_library_stores_them(
    change: Callable[[dict[str, Any]], None], database: Database, pg_records: Records
) -> None:
    lines = (GOLDEN_LOGS / "corrections.ndjson").read_text(encoding="utf-8").splitlines()

    assert_stored_as_the_library_stores(
        database, pg_records, [_rewritten(line, change) for line in lines]
    )


def _with_blank_lines(lines: list[str]) -> list[str]:
    return ["\n", *lines[:3], "   \n", *lines[3:]]


def test_blank_lines_are_skipped(database: Database, pg_records: Records) -> None:
    lines = (GOLDEN_LOGS / "demo.ndjson").read_text(encoding="utf-8").splitlines(keepends=True)

    assert import_log(database, pg_records, _with_blank_lines(lines)).events == len(lines)
    assert len(stored_rows(database)) == len(lines)


def test_lines_are_numbered_as_in_the_file_blank_lines_included(
    database: Database, pg_records: Records
) -> None:
    lines = (GOLDEN_LOGS / "demo.ndjson").read_text(encoding="utf-8").splitlines(keepends=True)
    broken = _with_blank_lines([*lines[:-1], "{\n"])

    with pytest.raises(ImportRefusedError, match=rf"^line {len(broken)}: not JSON"):
        import_log(database, pg_records, broken)
    assert stored_rows(database) == []


# --- refusals ---------------------------------------------------------------------------------


def _corrections_log() -> list[str]:
    return (GOLDEN_LOGS / "corrections.ndjson").read_text(encoding="utf-8").splitlines()


def _first(lines: list[str], event_type: str) -> int:
    return next(i for i, line in enumerate(lines) if json.loads(line)["type"] == event_type)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Sets ``data.title``, ``stream`` or ``data.evidence.0.quote`` to ``value``."""

    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = record
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[int(last) if isinstance(target, list) else last] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = record
        for key in parents:
            target = target[key]
        del target[last]

    return change


REFUSALS: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    # (event type, what is wrong, the change, the message after "line N: ")
    ("SourceRegistered", "no stream", _drop("stream"), "not an event: it has no 'stream'"),
    ("SourceRegistered", "no data", _drop("data"), "not an event: it has no 'data'"),
    (
        "SourceRegistered",
        "a topic outside the record",
        _set("topic", "eventsourcing.domain:Aggregate.Created"),
        "topic 'eventsourcing.domain:Aggregate.Created' is not an event of this record",
    ),
    (
        "SourceRegistered",
        "a topic of the record that is no event",
        _set("topic", "domain.values:Evidence"),
        "topic 'domain.values:Evidence' is not an event of this record",
    ),
    (
        "StatisticReported",
        "a topic of an event class outside the catalogue",
        _set("topic", "domain.session:Session.Event"),
        "topic 'domain.session:Session.Event' is not an event of this record",
    ),
    (
        "SourceRegistered",
        "a topic that is not a module",
        _set("topic", "domain.nowhere:Thing"),
        "topic 'domain.nowhere:Thing' is not an event of this record",
    ),
    ("SourceRegistered", "a topic not text", _set("topic", 7), "topic 7 is not an event"),
    ("SourceRegistered", "a stream not a UUID", _set("stream", "az-ru"), "stream 'az-ru' is not"),
    ("SourceRegistered", "a version as text", _set("version", "1"), "version '1' is not a version"),
    ("SourceRegistered", "version 0", _set("version", 0), "version 0 is not a version"),
    (
        "SourceRegistered",
        "recorded_at not a moment",
        _set("recorded_at", "yesterday"),
        "recorded_at 'yesterday' is not an ISO 8601 timestamp",
    ),
    ("SourceRegistered", "recorded_by not text", _set("recorded_by", 7), "recorded_by 7 is not"),
    ("SourceRegistered", "data not an object", _set("data", ["slug"]), "data ['slug'] is not an"),
    ("SourceRegistered", "a missing field", _drop("data.title"), "data has no field 'title'"),
    (
        "SourceRegistered",
        "unknown fields",
        _set("data.colour", "red"),
        "data has unknown fields: colour",
    ),
    ("SourceRegistered", "a number for text", _set("data.title", 7), "data field 'title': 7 is"),
    ("SourceRegistered", "null for text", _set("data.title", None), "data field 'title': None"),
    (
        "SourceRegistered",
        "a partial date that does not parse",
        _set("data.published_on", "2024-13"),
        "data field 'published_on': '2024-13' has no month 13",
    ),
    (
        "SourceRegistered",
        "a partial date as a number",
        _set("data.published_on", 2024),
        "data field 'published_on': 2024 is not a partial date written as text",
    ),
    (
        "CommissionEstablished",
        "a list of text holding a number",
        _set("data.parties.1", 7),
        "data field 'parties': 7 is not text",
    ),
    (
        "CommissionEstablished",
        "names not an object",
        _set("data.names", ["en"]),
        "data field 'names': ['en'] is not an object",
    ),
    (
        "SessionConvened",
        "a required partial date missing its value",
        _set("data.start", None),
        "data field 'start': None is not a partial date written as text",
    ),
    (
        "SessionConvened",
        "an ordinal as text",
        _set("data.ordinal", "22"),
        "data field 'ordinal': '22' is not a whole number",
    ),
    (
        "SessionConvened",
        "a place without its country",
        _drop("data.place.country"),
        "data field 'place': expected an object of city, country",
    ),
    (
        "SessionConvened",
        "evidence not a list",
        _set("data.evidence", {"source": "x", "quote": "y"}),
        "data field 'evidence': {'source': 'x', 'quote': 'y'} is not a list",
    ),
    (
        "SessionConvened",
        "evidence with an unknown field",
        _set("data.evidence.0.page", 3),
        "data field 'evidence': expected an object of source, quote",
    ),
    (
        "SessionConvened",
        "a co-chair's name not text",
        _set("data.co_chairs.0.name", ["Overchuk"]),
        "data field 'co_chairs': ['Overchuk'] is not text",
    ),
    (
        "StatisticReported",
        "a decimal that is not one",
        _set("data.value", "4.4 bn"),
        "data field 'value': '4.4 bn' is not a decimal number",
    ),
    (
        "StatisticReported",
        "a decimal that is not finite",
        _set("data.value", "NaN"),
        "data field 'value': 'NaN' is not a finite number",
    ),
    (
        "StatisticReported",
        "a decimal as a JSON number",
        _set("data.value", 4.4),
        "data field 'value': 4.4 is not a decimal number written as text",
    ),
    (
        "StatisticReported",
        "a period that ends before it starts",
        _set("data.period", "2024/2023"),
        "data field 'period': '2024/2023' ends before it starts",
    ),
    (
        "StatisticReported",
        "a statistic id not a UUID",
        _set("data.statistic_id", "stat-1"),
        "data field 'statistic_id': 'stat-1' is not a UUID",
    ),
    (
        "StatisticCorrected",
        "a change of a field no correction changes",
        _set("data.changes", {"statistic_id": "x"}),
        "data field 'changes': 'statistic_id' cannot be corrected",
    ),
    (
        "StatisticCorrected",
        "a changed value of the wrong kind",
        _set("data.changes", {"value": "lots"}),
        "data field 'changes': 'lots' is not a decimal number",
    ),
    (
        "SessionCorrected",
        "a changed date that does not parse",
        _set("data.changes", {"start": "2024-02-30"}),
        "data field 'changes': '2024-02-30'",
    ),
]


@pytest.mark.parametrize(
    ("event_type", "change", "message"),
    [pytest.param(t, c, m, id=what) for t, what, c, m in REFUSALS],
)
def test_a_line_the_record_could_not_have_written_is_refused_by_number_and_nothing_is_stored(
    event_type: str,
    change: Callable[[dict[str, Any]], None],
    message: str,
    database: Database,
    pg_records: Records,
) -> None:
    lines = _corrections_log()
    index = _first(lines, event_type)
    lines[index] = _rewritten(lines[index], change)

    with pytest.raises(ImportRefusedError) as refused:
        import_log(database, pg_records, lines)

    assert str(refused.value).startswith(f"line {index + 1}: {message}"), str(refused.value)
    assert stored_rows(database) == []


def test_a_line_that_is_not_json_is_refused(database: Database, pg_records: Records) -> None:
    lines = [*_corrections_log()[:4], '{"topic": "domain.source:Source.Registered"']

    with pytest.raises(ImportRefusedError, match=r"^line 5: not JSON"):
        import_log(database, pg_records, lines)
    assert stored_rows(database) == []


def test_a_line_that_is_not_an_object_is_refused(database: Database, pg_records: Records) -> None:
    with pytest.raises(ImportRefusedError, match=r"^line 1: not an event: a line holds one JSON"):
        import_log(database, pg_records, ["[1, 2]"])


def _version(lines: list[str], index: int, version: int) -> None:
    lines[index] = _rewritten(lines[index], _set("version", version))


@pytest.mark.parametrize(
    ("what", "index", "version", "expected"),
    [
        ("a new stream not starting at 1", 0, 2, 1),
        ("a gap in a stream", 3, 4, 3),  # the commission's second co-chair
        ("a repeated version", 3, 2, 3),
    ],
)
def test_a_stream_that_does_not_continue_is_refused_by_line_and_nothing_is_stored(
    what: str, index: int, version: int, expected: int, database: Database, pg_records: Records
) -> None:
    lines = _corrections_log()
    assert json.loads(lines[index])["version"] == expected, what
    _version(lines, index, version)

    conflict = (
        rf"^line {index + 1}: stream [0-9a-f-]{{36}} version {version} conflicts with the "
        rf"store: the stream's next version is {expected}$"
    )
    with pytest.raises(ImportRefusedError, match=conflict):
        import_log(database, pg_records, lines)
    assert stored_rows(database) == []


def test_a_log_continuing_the_store_is_appended_after_it(
    database: Database, pg_records: Records
) -> None:
    lines = _corrections_log()

    first = import_log(database, pg_records, lines[:10])
    rest = import_log(database, pg_records, lines[10:])

    assert (first.events, rest.events) == (10, len(lines) - 10)
    assert rest.last_position == pg_records.recorder.max_notification_id()
    assert [row.state for row in stored_rows(database)] == [
        pg_records.mapper.to_stored_event(library_event(line)).state for line in lines
    ]


def test_a_refusal_after_a_megabyte_has_been_copied_stores_nothing(
    database: Database, pg_records: Records, tmp_path: Path
) -> None:
    log = tmp_path / "log.ndjson"
    generate(log, events=4_000, hot_commission_events=1_000)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert sum(map(len, lines)) > 1 << 20
    lines[-1] = _rewritten(lines[-1], _set("recorded_by", None))

    with pytest.raises(ImportRefusedError, match=rf"^line {len(lines)}: recorded_by None"):
        import_log(database, pg_records, lines)
    assert stored_rows(database) == []


def test_a_store_that_compresses_its_events_is_not_imported_into(database: Database) -> None:
    env = {
        **database.event_store_env(),
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
    }
    records = Records(env)
    try:
        with pytest.raises(ImportRefusedError, match="compresses"):
            import_log(database, records, _corrections_log())
    finally:
        records.close()
    assert stored_rows(database) == []
