"""Statistics: reported at a held session, read at /statistics/{sid}, corrected and retracted,
every version staying in the record."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient

from tests.http.conftest import Store
from tests.http.helpers import (
    AGREEMENTS_QUOTE,
    NOT_IN_TEXT,
    TURNOVER_QUOTE,
    UNTEXTED_SOURCE,
    Record,
    assert_created,
    assert_problem,
    dumps,
    evidence,
    post,
    quoted,
    raw_post,
    read,
    report_statistic,
    schedule_session,
    statistic_body,
)

BAD_STATISTICS: list[tuple[dict[str, Any], tuple[str, ...]]] = [
    ({"value": ""}, ("value",)),
    ({"value": "NaN"}, ("value",)),
    ({"value": "Infinity"}, ("value",)),
    ({"value": "4,4"}, ("value",)),
    ({"value": " 4.4E9"}, ("value",)),
    ({"value": "-1"}, ("value",)),
    ({"value": None}, ("value",)),
    ({"value": "1E+1000000"}, ("value",)),
    ({"value": "1E-1000000", "value_kind": "change_pct", "unit": "percent"}, ("value",)),
    ({"value_kind": "share_pct", "value": "101", "unit": "percent"}, ("value",)),
    ({"value_kind": "change_pct", "value": "-100", "unit": "percent"}, ("value",)),
    ({"value_kind": "rank", "value": "1.5", "unit": "rank", "period": None}, ("value",)),
    ({"value_kind": "count", "value": "-3", "unit": "count"}, ("value",)),
    ({"unit": "$"}, ("unit",)),
    ({"unit": "usd"}, ("unit",)),
    ({"unit": "percent"}, ("unit",)),
    ({"value_kind": "change_pct", "value": "17.5", "unit": "USD"}, ("unit",)),
    ({"measure": "gdp"}, ("measure",)),
    ({"value_kind": "ratio"}, ("value_kind",)),
    ({"qualifier": "roughly"}, ("qualifier",)),
    ({"reporter": "TR"}, ("reporter",)),
    ({"partner": "az"}, ("partner",)),
    ({"partner": "AZ"}, ("partner",)),
    ({"partner": None}, ("partner",)),
    ({"stated_by": "TR"}, ("stated_by",)),
    ({"period": None}, ("period",)),
    ({"period": "2024-05/2024-01"}, ("period",)),
    ({"period": "2999"}, ("period",)),
    ({"period": "last year"}, ("period",)),
    ({"remarks": "x" * 5001}, ("remarks",)),
    (
        {"value": "lots", "unit": "$", "reporter": "TR", "evidence": evidence(NOT_IN_TEXT)},
        ("value", "unit", "reporter", "evidence[0].quote"),
    ),
]


def test_figures_from_two_sources_are_reported_at_one_session_and_read_by_id(
    client: TestClient, record: Record
) -> None:
    response = post(client, f"{record.session_path}/statistics", statistic_body())

    turnover = assert_created(client, response)
    assert response.headers["Location"] == f"/statistics/{turnover['id']}"
    assert response.headers["ETag"] == '"2"'
    assert (turnover["commission"], turnover["session"]) == ("az-ru-economic", "22")
    assert (turnover["measure"], turnover["value_kind"]) == ("trade_turnover", "level")
    assert (turnover["value"], turnover["unit"], turnover["qualifier"]) == (
        "4400000000",
        "USD",
        "approximately",
    )
    assert (turnover["reporter"], turnover["partner"], turnover["stated_by"]) == ("AZ", "RU", "AZ")
    assert turnover["period"] == "2023"
    assert quoted(turnover["evidence"]) == evidence(TURNOVER_QUOTE)
    assert (turnover["revision"], turnover["retracted"]) == (1, False)

    share = report_statistic(
        client,
        record,
        measure="settlement_share_national_currency",
        value_kind="share_pct",
        value="57.8",
        unit="percent",
        qualifier="exact",
        period="2023-12",
        stated_by="RU",
        evidence=evidence("доля национальных валют составила 57,8%", UNTEXTED_SOURCE),
    )
    count = report_statistic(
        client,
        record,
        measure="agreements_signed",
        value_kind="count",
        value="260",
        unit="count",
        qualifier="more_than",
        reporter=None,
        partner=None,
        period=None,
        stated_by=None,
        evidence=evidence(AGREEMENTS_QUOTE),
    )

    session = read(client, record.session_path)
    assert session.headers["ETag"] == '"4"'
    listed = [s["id"] for s in session.json()["statistics"]]
    assert sorted(listed) == sorted([turnover["id"], share["id"], count["id"]])
    assert turnover["position"] < share["position"] < count["position"]
    assert read(client, f"/statistics/{share['id']}").json()["value"] == "57.8"
    assert read(client, f"/statistics/{count['id']}").json()["period"] is None


def test_a_bad_statistic_is_refused_naming_each_bad_field_and_nothing_is_stored(
    client: TestClient, record: Record, store: Store
) -> None:
    path = f"{record.session_path}/statistics"
    text = dumps(statistic_body())
    schedule_session(client)

    with store.unchanged():
        for number in ("4.4", "4400000000", "NaN"):
            response = raw_post(client, path, text.replace('"4.4E9"', number))
            assert_problem(response, 422, fields=("value",))
        for changes, fields in BAD_STATISTICS:
            response = post(client, path, statistic_body(**changes))
            assert_problem(response, 422, fields=fields)
        measure = post(client, path, statistic_body(measure="gdp"))
        planned = post(
            client, "/commissions/az-ru-economic/sessions/23/statistics", statistic_body()
        )

    [error] = assert_problem(measure, 422, fields=("measure",))["errors"]
    assert "trade_turnover" in error["message"]
    assert "settlement_share_national_currency" in error["message"]
    assert_problem(planned, 422, fields=("session",))
    assert_problem(read(client, f"/statistics/{uuid4()}"), 404, kind="not-found")


def test_a_correction_changes_the_figure_and_checks_it_as_it_would_stand(
    client: TestClient, record: Record, store: Store
) -> None:
    sid = report_statistic(client, record)["id"]
    path = f"/statistics/{sid}/corrections"

    with store.unchanged():
        as_number = post(client, path, {"changes": {"value": 4.5}, "reason": "Revised."})
        negative = post(client, path, {"changes": {"value": "-5"}, "reason": "Revised."})
        unit = post(client, path, {"changes": {"value_kind": "change_pct"}, "reason": "Kind."})
        unknown = post(client, path, {"changes": {"session": "21"}, "reason": "Moved."})
        unchanged = post(client, path, {"changes": {"value": "4400000000"}, "reason": "Same."})
        nothing = post(client, path, {"changes": {}, "reason": "Nothing."})
        no_reason = post(client, path, {"changes": {"value": "4.5E9"}})
    assert_problem(as_number, 422, fields=("changes.value",))
    assert_problem(negative, 422, fields=("changes.value",))
    assert_problem(unit, 422, fields=("changes.unit",))
    assert_problem(unknown, 422, fields=("changes.session",))
    assert_problem(unchanged, 422, fields=("changes",))
    assert_problem(nothing, 422, fields=("changes",))
    assert_problem(no_reason, 422, fields=("reason",))

    response = post(
        client,
        path,
        {
            "changes": {"value": "4.5E9", "qualifier": "exact"},
            "reason": "The ministry revised the figure.",
            "evidence": evidence(TURNOVER_QUOTE),
        },
        **{"If-Match": '"2"'},
    )

    body = assert_created(client, response)
    assert response.headers["Location"] == f"/statistics/{sid}"
    assert response.headers["ETag"] == '"3"'
    assert (body["value"], body["qualifier"], body["revision"]) == ("4500000000", "exact", 2)
    assert body["period"] == "2023"


def test_a_retracted_statistic_stays_marked_and_can_be_neither_retracted_nor_corrected(
    client: TestClient, record: Record, store: Store
) -> None:
    sid = report_statistic(client, record)["id"]
    path = f"/statistics/{sid}/retraction"

    with store.unchanged():
        blank = post(client, path, {"reason": " "})
        missing = post(client, path, {})
        with_evidence = post(client, path, {"reason": "x", "evidence": evidence(TURNOVER_QUOTE)})
        unknown = post(client, f"/statistics/{uuid4()}/retraction", {"reason": "Wrong."})
    assert_problem(blank, 422, fields=("reason",))
    assert_problem(missing, 422, fields=("reason",))
    assert_problem(with_evidence, 422, fields=("evidence",))
    assert_problem(unknown, 404, kind="not-found")

    response = post(client, path, {"reason": "Another year's figure."})

    body = assert_created(client, response, ignore=("revision",))
    assert (body["retracted"], body["retraction_reason"]) == (True, "Another year's figure.")
    assert body["value"] == "4400000000"
    [listed] = read(client, record.session_path).json()["statistics"]
    assert listed["retracted"] is True
    with store.unchanged():
        again = post(client, path, {"reason": "Still wrong."})
        corrected = post(
            client, f"/statistics/{sid}/corrections", {"changes": {"value": "1"}, "reason": "x"}
        )
    assert_problem(again, 422, fields=("statistic",))
    assert_problem(corrected, 422, fields=("statistic",))


def test_a_retraction_is_read_as_it_was_answered(client: TestClient, record: Record) -> None:
    sid = report_statistic(client, record)["id"]

    answer = post(client, f"/statistics/{sid}/retraction", {"reason": "Wrong year."}).json()

    shown = read(client, f"/statistics/{sid}").json()
    assert shown["revision"] == answer["revision"]
