"""The bounds of what the record holds, through the API on real PostgreSQL: a figure beyond
them is refused at once with a short answer naming it, and stores nothing; a figure at them
is stored, projected and read back as it was given. Refusals stay short whatever is sent."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.conftest import Store
from tests.http.helpers import (
    Record,
    assert_created,
    assert_problem,
    convened_session_body,
    dumps,
    evidence,
    post,
    raw_post,
    read,
    report_statistic,
    statistic_body,
)

#: The two findings of the security review: each was accepted with 201. The first then failed
#: PostgreSQL's numeric (at most 16,383 digits after the point) and wedged every read model;
#: the second was answered with 100 MB of zeros.
FINDINGS = ["0E-16384", "0E-100000000"]

#: What a refusal of one field may take, at most: a problem with one short error.
SHORT_ANSWER = 1_000
#: Far longer than a refusal takes (milliseconds), far shorter than writing 100 MB did.
QUICKLY = 5.0


@pytest.mark.parametrize("value", FINDINGS)
def test_a_zero_with_thousands_of_digits_after_the_point_is_refused_quickly_and_briefly(
    client: TestClient, record: Record, store: Store, value: str
) -> None:
    with store.unchanged():
        started = time.monotonic()
        response = post(client, f"{record.session_path}/statistics", statistic_body(value=value))
        elapsed = time.monotonic() - started

    [error] = assert_problem(response, 422, fields=("value",), kind="invalid-fact")["errors"]
    assert error["field"] == "value"
    assert "digits after the point; at most 18 are allowed" in error["message"]
    assert len(response.content) < SHORT_ANSWER
    assert elapsed < QUICKLY


@pytest.mark.parametrize("value", FINDINGS)
def test_a_correction_to_a_zero_with_thousands_of_places_is_refused(
    client: TestClient, record: Record, store: Store, value: str
) -> None:
    sid = report_statistic(client, record)["id"]
    with store.unchanged():
        response = post(
            client,
            f"/statistics/{sid}/corrections",
            {"changes": {"value": value}, "reason": "Revised."},
        )
    assert_problem(response, 422, fields=("changes.value",))
    assert len(response.content) < SHORT_ANSWER


#: Figures at the bounds, each of a kind it fits: (value kind, unit, value).
AT_THE_BOUNDS: list[tuple[str, str, str]] = [
    ("level", "USD", "999999999999999999.999999"),  # the largest, with the most digits
    ("level", "USD", "9.99999999999999999999999E17"),
    ("level", "tonne", "0E-18"),  # zero with the most places
    ("level", "person", "0E+17"),  # and with the largest exponent
    ("share_pct", "percent", "0.000000000001234567"),  # the smallest, with the most places
    ("share_pct", "percent", "1E-12"),
    ("change_pct", "percent", "-99.999999999999999999"),
    ("count", "count", "100000000000000000"),
    ("rank", "rank", "99999999999999999.0"),
]


def test_figures_at_the_bounds_are_stored_projected_and_read_back_as_given(
    client: TestClient, record: Record
) -> None:
    reported: list[tuple[str, dict[str, Any]]] = []
    for value_kind, unit, value in AT_THE_BOUNDS:
        body = statistic_body(value_kind=value_kind, unit=unit, value=value)
        if value_kind == "share_pct":
            body.update(reporter=None, partner=None, measure="settlement_share_national_currency")
        elif value_kind in ("rank", "count"):
            body.update(measure="agreements_signed", reporter=None, partner=None, period=None)
        response = post(client, f"{record.session_path}/statistics", body)
        reported.append((value, assert_created(client, response)))

    for value, answered in reported:
        assert Decimal(answered["value"]) == Decimal(value)
        # Read from the read models once they include the write: they could hold it.
        figure = read(client, f"/statistics/{answered['id']}").json()
        assert figure["value"] == answered["value"]
        assert len(figure["value"]) <= 26
    session = read(client, record.session_path).json()
    assert {s["value"] for s in session["statistics"]} == {a["value"] for _, a in reported}
    assert client.get("/ready").json()["status"] == "ready"


def test_the_largest_ordinal_is_accepted_and_one_more_is_refused(
    client: TestClient, record: Record, store: Store
) -> None:
    path = f"/commissions/{record.commission}/sessions"
    largest = post(client, path, convened_session_body(ordinal=100_000))
    assert assert_created(client, largest)["ordinal"] == 100_000
    assert read(client, f"{path}/100000").json()["ordinal"] == 100_000

    body = dumps(convened_session_body(ordinal=0))
    with store.unchanged():
        for ordinal in ("100001", "0", "-1", str(2**63), "1" + "0" * 30):
            response = raw_post(client, path, body.replace('"ordinal": 0', f'"ordinal": {ordinal}'))
            [error] = assert_problem(response, 422, fields=("ordinal",))["errors"]
            assert error["message"] == "must be a whole number from 1 to 100,000"


def test_a_body_of_many_bad_items_is_answered_with_a_bounded_refusal(
    client: TestClient, record: Record, store: Store
) -> None:
    path = f"{record.session_path}/statistics"
    many = evidence(" ", record.untexted_source) * 1_500
    with store.unchanged():
        # Each item of the wrong type, as the request's shape is checked: an error each.
        numbers = raw_post(client, path, '{"evidence": [' + ",".join(["1"] * 100_000) + "]}")
        # Each item well formed, but too many, and each quote empty.
        items = post(client, path, statistic_body(evidence=many))
        # More objects than any fact holds: refused before it is parsed into objects.
        objects = post(client, path, statistic_body(evidence=many * 2))

    shape = assert_problem(numbers, 422, kind="invalid-request")
    assert len(shape["errors"]) == 100
    assert re.search(r"The first 100 of its 1000\d\d problems are listed\.", shape["detail"])
    fact = assert_problem(items, 422, fields=("evidence",), kind="invalid-fact")
    assert len(fact["errors"]) == 51  # the list's limit, and the first 50 items' quotes
    assert "at most 50 items are allowed" in fact["errors"][0]["message"]
    assert len(numbers.content) < 20_000
    assert len(items.content) < 20_000
    assert "more than 2000 arrays and objects" in assert_problem(objects, 400)["detail"]


def test_the_api_document_says_the_bounds(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    value = schemas["ReportStatistic"]["properties"]["value"]
    assert (value["maxLength"], value["pattern"]) == (
        40,
        "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$",
    )
    assert "at most 18 of them after the point" in value["description"]
    ordinal = schemas["RecordSession"]["properties"]["ordinal"]
    assert (ordinal["minimum"], ordinal["maximum"]) == (1, 100_000)
    assert schemas["ReportStatistic"]["properties"]["evidence"]["maxItems"] == 50
    assert schemas["RecordSession"]["properties"]["co_chairs"]["maxItems"] == 100
    assert schemas["EstablishCommission"]["properties"]["names"]["maxProperties"] == 100
    assert schemas["PersonItem"]["properties"]["name"]["maxLength"] == 200
    assert schemas["EvidenceItem"]["properties"]["quote"]["maxLength"] == 2_000
    assert schemas["RegisterSource"]["properties"]["language"]["maxLength"] == 35
