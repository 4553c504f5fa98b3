"""The read models' view of a stored value is what ``plain`` makes of the decoded value, read
by each event type's fields or by walking all of it."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, UUIDAsHex

from domain.session import Session
from domain.transcodings import TRANSCODINGS
from domain.values import Evidence, Place, Representative
from projections.values import StoredForm, plain


@pytest.mark.parametrize(
    "value",
    [
        Evidence("src-1", "a quote"),
        Place("Geneva", "CH"),
        Representative("US", "A. Person", "Ambassador"),
    ],
)
def test_an_object_of_text_fields_is_read_as_plain_makes_it(value: Any) -> None:
    form = StoredForm({transcoding.name: transcoding for transcoding in TRANSCODINGS})
    transcoding = next(t for t in TRANSCODINGS if isinstance(value, t.type))
    stored = {"_type_": transcoding.name, "_data_": transcoding.encode(value)}
    assert form.form(stored) == plain(value)
    assert form.form({"items": [stored]}) == {"items": [plain(value)]}


@pytest.mark.parametrize(
    "encoded",
    [
        UUIDAsHex().encode(UUID("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")),
        "0A1B2C3D4E5F4A6B8C7D9E0F1A2B3C4D",
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    ],
)
def test_a_uuid_is_read_as_plain_makes_it_however_its_hex_is_written(encoded: str) -> None:
    form = StoredForm({"uuid_hex": UUIDAsHex()})
    assert form.form({"_type_": "uuid_hex", "_data_": encoded}) == plain(
        UUIDAsHex().decode(encoded)
    )


STATISTIC_REPORTED = {
    "timestamp": {"_type_": "datetime_iso", "_data_": "2024-05-01T10:00:00.000001+00:00"},
    "recorded_by": "analyst",
    "statistic_id": {"_type_": "uuid_hex", "_data_": "0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d"},
    "measure": "trade_turnover",
    "value_kind": "level",
    "value": {"_type_": "decimal_str", "_data_": "4.4E+9"},
    "unit": "USD",
    "qualifier": "exact",
    "reporter": "AZ",
    "partner": None,
    "period": {"_type_": "period", "_data_": "2023"},
    "stated_by": None,
    "remarks": None,
    "evidence": [{"_type_": "evidence", "_data_": {"source": "src-1", "quote": "a quote"}}],
}


def stored_form() -> StoredForm:
    transcodings = [*TRANSCODINGS, UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()]
    return StoredForm({transcoding.name: transcoding for transcoding in transcodings})


def test_an_event_type_is_read_by_its_fields_as_walking_all_of_it_reads_it() -> None:
    form = stored_form()
    reading = form.reading(Session.StatisticReported, "StatisticReported")
    stream = uuid4()

    recorded = form.recorded(7, reading, stream, 3, orjson.dumps(STATISTIC_REPORTED))

    assert [name for name, _ in reading.forms] == ["statistic_id", "value", "period", "evidence"]
    assert recorded == form.walked(7, "StatisticReported", stream, 3, dict(STATISTIC_REPORTED))
    assert recorded.data["value"] == "4400000000"
    assert recorded.data["evidence"] == [{"source": "src-1", "quote": "a quote"}]


def test_a_stored_event_unlike_its_class_is_walked_whole() -> None:
    form = stored_form()
    reading = form.reading(Session.StatisticReported, "StatisticReported")
    stored = {**STATISTIC_REPORTED, "estimate": {"_type_": "decimal_str", "_data_": "1E+3"}}
    del stored["remarks"]

    recorded = form.recorded(7, reading, uuid4(), 3, orjson.dumps(stored))

    assert recorded.data["estimate"] == "1000"
    assert "remarks" not in recorded.data
    assert recorded.data["statistic_id"] == "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
