"""A batch's rows in memory: what a new row holds, and the row a reported statistic makes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import uuid4

import psycopg

from projections.batch import Batch, Table
from projections.models import SESSION_STREAMS, StatisticsModel, statistic_values
from projections.values import Recorded

AT = datetime(2024, 5, 1, 10, tzinfo=UTC)
TABLE = Table("things", ("id",), ("colour", "size"))


def batch() -> Batch:
    """A batch that never reaches the database (these tests write nothing)."""
    return Batch(cast(psycopg.Cursor[dict[str, Any]], None), "rm_test_g1")


def test_a_new_row_holds_its_key_its_columns_and_when_it_began() -> None:
    rows = batch()

    rows.create(TABLE, ("a",), {"colour": "red"}, AT, 7)

    assert rows.get(TABLE, ("a",)) == {"id": "a", "colour": "red", "size": None}
    assert rows._inserts[TABLE] == [
        {
            "id": "a",
            "colour": "red",
            "size": None,
            "valid_from": AT,
            "valid_to": None,
            "from_position": 7,
            "to_position": None,
        }
    ]


def test_a_row_keeps_only_its_tables_columns_and_its_own_key() -> None:
    rows = batch()
    rows.create(TABLE, ("a",), {"colour": "red", "size": 1}, AT, 7)
    changed = rows.get(TABLE, ("a",))
    assert changed is not None

    changed.update(id="b", size=2, note="not a column")
    rows.put(TABLE, ("a",), changed, AT, 8)

    assert rows.get(TABLE, ("a",)) == {"id": "a", "colour": "red", "size": 2}
    assert [set(row) for row in rows._inserts[TABLE]] == [set(TABLE.all_columns)] * 2
    assert rows._inserts[TABLE][0]["to_position"] == 8


def test_equal_tables_are_one_table() -> None:
    assert Table("things", ("id",), ("colour", "size")) == TABLE
    assert hash(Table("things", ("id",), ("colour", "size"))) == hash(TABLE)
    assert Table("things", ("id",), ("colour",)) != TABLE


def test_a_reported_statistic_is_the_row_of_its_fields() -> None:
    model = StatisticsModel()
    rows = batch()
    session = uuid4()
    rows.create(SESSION_STREAMS, (session,), {"commission": "az-ru", "session_key": "22"}, AT, 1)
    rows.create(model.commission_parties, ("az-ru",), {"party_a": "AZ", "party_b": "RU"}, AT, 2)
    fields: dict[str, Any] = {
        "measure": "trade_turnover",
        "value_kind": "level",
        "value": "4400000000.50",
        "unit": "USD",
        "qualifier": "exact",
        "reporter": "AZ",
        "partner": None,
        "period": "2023-Q4",
        "stated_by": None,
        "remarks": "in the opening remarks",
    }
    evidence = [{"source": "src-1", "quote": "a quote"}]
    statistic = uuid4()
    data = {"statistic_id": str(statistic), **fields, "evidence": evidence}

    model.on_StatisticReported(rows, Recorded(9, "StatisticReported", session, 3, AT, "me", data))

    assert rows.get(model.statistics, (statistic,)) == {
        "id": statistic,
        "commission": "az-ru",
        "session_key": "22",
        "party_a": "AZ",
        "party_b": "RU",
        **statistic_values(fields),
        "evidence": evidence,
        "superseded_evidence": [],
        "revision": 1,
        "retracted": False,
        "change": "reported",
        "reason": None,
        "recorded_by": "me",
        "first_position": 9,
    }
    assert statistic_values(fields)["value"] == Decimal("4400000000.50")
