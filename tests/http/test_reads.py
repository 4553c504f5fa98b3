"""The list reads (sources, statistics, the measure catalogue), one spelling of party filters
on every route that has one, and the refusals of what a query cannot honour: an unknown
parameter, a range that ends before it starts, a cursor of another list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.values import MEASURES, VALUE_KINDS
from tests.http.conftest import Store
from tests.http.helpers import (
    COMMISSION,
    SOURCE,
    UNTEXTED_SOURCE,
    Record,
    assert_problem,
    commission_body,
    convened_session_body,
    evidence,
    person,
    post,
    read,
    report_statistic,
    source_body,
)

AZ_TR = "az-tr-economic"
AZ_SOURCE = "report-az-2023"


def quoted(quote: str) -> list[dict[str, str]]:
    """Evidence from the source registered without text: its quotes are taken as given."""
    return evidence(quote, UNTEXTED_SOURCE)


@dataclass(frozen=True)
class Figures:
    """The statistics written for these tests, by what they are."""

    turnover: str  # AZ-RU, session 22: AZ->RU level, 2023, stated by AZ
    growth: str  # AZ-RU, session 22: change_pct, 2023, stated by AZ
    agreements: str  # AZ-RU, session 22: a count with no period (the session's date, 2024)
    ru_exports: str  # AZ-RU, session 22: RU->AZ exports, 2024-01/2024-05, stated by RU, retracted
    tr_exports: str  # AZ-TR, session 5: AZ->TR exports, 2022, stated by AZ

    @property
    def all(self) -> set[str]:
        return {self.turnover, self.growth, self.agreements, self.ru_exports, self.tr_exports}


@pytest.fixture
def figures(client: TestClient, record: Record) -> Figures:
    turnover = report_statistic(client, record)["id"]
    growth = report_statistic(
        client,
        record,
        value_kind="change_pct",
        value="17.5",
        unit="percent",
        qualifier="exact",
        evidence=quoted("grew by 17.5 percent"),
    )["id"]
    agreements = report_statistic(
        client,
        record,
        measure="agreements_signed",
        value_kind="count",
        value="260",
        unit="count",
        qualifier="more_than",
        period=None,
        stated_by="RU",
        evidence=quoted("more than 260 agreements"),
    )["id"]
    ru_exports = report_statistic(
        client,
        record,
        measure="exports",
        value="1.2E9",
        reporter="RU",
        partner="AZ",
        period="2024-01/2024-05",
        stated_by="RU",
        evidence=quoted("exports of 1.2 billion dollars in January-May"),
    )["id"]
    retracted = post(client, f"/statistics/{ru_exports}/retraction", {"reason": "Misread."})
    assert retracted.status_code == 201, retracted.text
    for path, body in (
        (
            "/commissions",
            commission_body(id=AZ_TR, parties=["TR", "AZ"], names={"en": "AZ-TR commission"}),
        ),
        (
            f"/commissions/{AZ_TR}/sessions",
            convened_session_body(
                ordinal=5,
                start="2023",
                place={"city": "Ankara", "country": "TR"},
                co_chairs=[person("AZ"), person("TR")],
                evidence=quoted("The fifth meeting was held in Ankara."),
            ),
        ),
    ):
        response = post(client, path, body)
        assert response.status_code == 201, response.text
    tr = post(
        client,
        f"/commissions/{AZ_TR}/sessions/5/statistics",
        {
            "measure": "exports",
            "value_kind": "level",
            "value": "8E8",
            "unit": "USD",
            "qualifier": "approximately",
            "reporter": "AZ",
            "partner": "TR",
            "period": "2022",
            "stated_by": "AZ",
            "evidence": quoted("exports to Turkey of about 800 million dollars"),
        },
    )
    assert tr.status_code == 201, tr.text
    return Figures(turnover, growth, agreements, ru_exports, tr.json()["id"])


def ids(client: TestClient, path: str, **params: Any) -> set[str]:
    """The ids of every item of a list, read one page after another."""
    return {item["id"] for item in walk(client, path, **params)}


def walk(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = read(client, path, **params, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        body = page.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages did not end")


# --- GET /statistics ------------------------------------------------------------------------


def test_every_statistic_is_listed_with_the_retracted_ones_marked(
    client: TestClient, figures: Figures
) -> None:
    items = walk(client, "/statistics")
    assert {item["id"] for item in items} == figures.all
    retracted = {item["id"]: item["retracted"] for item in items}
    assert retracted == {f: f == figures.ru_exports for f in figures.all}
    first = next(item for item in items if item["id"] == figures.turnover)
    assert first["value"] == "4400000000"
    assert first["commission"] == COMMISSION
    assert first["session"] == "22"
    assert first["superseded_at"] is None


@pytest.mark.parametrize(
    ("params", "chosen"),
    [
        ({"commission": COMMISSION}, {"turnover", "growth", "agreements", "ru_exports"}),
        ({"commission": AZ_TR}, {"tr_exports"}),
        (
            {"commission": COMMISSION, "session": "22"},
            {"turnover", "growth", "agreements", "ru_exports"},
        ),
        ({"commission": AZ_TR, "session": "22"}, set()),
        ({"measure": "exports"}, {"ru_exports", "tr_exports"}),
        ({"measure": "agreements_signed"}, {"agreements"}),
        ({"reporter": "RU"}, {"ru_exports"}),
        ({"partner": "TR"}, {"tr_exports"}),
        ({"reporter": "AZ", "partner": "RU"}, {"turnover", "growth", "agreements"}),
        ({"stated_by": "RU"}, {"agreements", "ru_exports"}),
        ({"party": "TR"}, {"tr_exports"}),
        ({"parties": "RU,AZ"}, {"turnover", "growth", "agreements", "ru_exports"}),
        ({"party": "AZ"}, {"turnover", "growth", "agreements", "ru_exports", "tr_exports"}),
        ({"from": "2023", "to": "2023"}, {"turnover", "growth"}),
        ({"to": "2022-12"}, {"tr_exports"}),
        # A count without a period concerns its session's date, 2024.
        ({"from": "2024"}, {"agreements", "ru_exports"}),
        ({"from": "2024-06"}, {"agreements"}),
        ({"from": "2024-Q2", "to": "2024-04-30"}, {"agreements", "ru_exports"}),
        ({"retracted": "true"}, {"ru_exports"}),
        ({"retracted": "false"}, {"turnover", "growth", "agreements", "tr_exports"}),
        ({"measure": "exports", "retracted": "false", "party": "AZ"}, {"tr_exports"}),
    ],
)
def test_each_statistics_filter_narrows_the_list(
    client: TestClient, figures: Figures, params: dict[str, str], chosen: set[str]
) -> None:
    assert ids(client, "/statistics", **params) == {getattr(figures, name) for name in chosen}


def test_the_statistics_are_paged_each_exactly_once_in_the_order_reported(
    client: TestClient, figures: Figures
) -> None:
    for limit in (1, 2, 3):
        items = walk(client, "/statistics", limit=limit)
        listed = [item["id"] for item in items]
        assert len(listed) == len(set(listed)) == 5
        assert listed[:4] == [
            figures.turnover,
            figures.growth,
            figures.agreements,
            figures.ru_exports,
        ]
    narrowed = [
        item["id"] for item in walk(client, "/statistics", limit=1, party="AZ", measure="exports")
    ]
    assert narrowed == [figures.ru_exports, figures.tr_exports]


def test_the_statistics_as_of_a_moment_show_what_stood_then(
    client: TestClient, figures: Figures
) -> None:
    history = read(client, f"/statistics/{figures.ru_exports}/history").json()
    reported_at = history["versions"][0]["recorded_at"]
    before = walk(client, "/statistics", as_of=reported_at, measure="exports", party="RU")
    assert [(item["id"], item["retracted"]) for item in before] == [(figures.ru_exports, False)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"reporter": "az"}, "reporter"),
        ({"partner": "AZE"}, "partner"),
        ({"stated_by": "XX"}, "stated_by"),
        ({"measure": "gdp"}, "measure"),
        ({"session": "22"}, "session"),
        ({"from": "last year"}, "from"),
        ({"retracted": "maybe"}, "retracted"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_a_statistics_filter_that_cannot_be_honoured_is_refused_by_name(
    client: TestClient, figures: Figures, params: dict[str, str], field: str
) -> None:
    assert_problem(read(client, "/statistics", **params), 422, fields=(field,))


# --- GET /sources ---------------------------------------------------------------------------


@pytest.fixture
def sources(client: TestClient, record: Record) -> None:
    response = post(
        client,
        "/sources",
        source_body(
            id=AZ_SOURCE,
            title="Hesabat",
            publisher="State Statistical Committee",
            language="az-Latn",
            url=None,
            published_on="2023",
        ),
    )
    assert response.status_code == 201, response.text


def test_the_sources_are_listed_by_id_with_whether_their_text_is_known(
    client: TestClient, sources: None
) -> None:
    items = walk(client, "/sources", limit=1)
    assert [item["id"] for item in items] == sorted([SOURCE, UNTEXTED_SOURCE, AZ_SOURCE])
    by_id = {item["id"]: item for item in items}
    assert by_id[SOURCE]["has_text"] is True
    assert by_id[UNTEXTED_SOURCE]["has_text"] is False
    assert by_id[UNTEXTED_SOURCE]["sha256"] is None
    assert all("text" not in item for item in items)
    assert by_id[UNTEXTED_SOURCE] | {"recorded_at": None} == {
        "id": UNTEXTED_SOURCE,
        "title": "О 22-м заседании Межправкомиссии",
        "publisher": "MID Rossii",
        "language": "ru",
        "published_on": "2024-05",
        "url": None,
        "has_text": False,
        "sha256": None,
        "recorded_at": None,
        "superseded_at": None,
    }


@pytest.mark.parametrize(
    ("params", "chosen"),
    [
        ({"publisher": "MID Rossii"}, {UNTEXTED_SOURCE}),
        ({"publisher": "MID"}, set()),
        ({"language": "ru"}, {UNTEXTED_SOURCE}),
        ({"language": "az"}, {AZ_SOURCE}),
        ({"language": "az-Latn"}, {AZ_SOURCE}),
        ({"language": "az-Cyrl"}, set()),
        ({"language": "en", "publisher": "MID Rossii"}, set()),
    ],
)
def test_each_sources_filter_narrows_the_list(
    client: TestClient, sources: None, params: dict[str, str], chosen: set[str]
) -> None:
    assert ids(client, "/sources", **params) == chosen


def test_a_language_that_is_not_a_tag_is_refused_by_name(client: TestClient, sources: None) -> None:
    assert_problem(read(client, "/sources", language="Russian"), 422, fields=("language",))


# --- GET /measures --------------------------------------------------------------------------


def test_the_measure_catalogue_lists_every_measure_with_its_value_kinds_and_units(
    client: TestClient,
) -> None:
    response = read(client, "/measures")
    assert response.status_code == 200, response.text
    catalogue = response.json()
    assert [m["id"] for m in catalogue["items"]] == list(MEASURES)
    assert catalogue["next_cursor"] is None
    for measure in catalogue["items"]:
        assert measure["description"]
        assert [k["id"] for k in measure["value_kinds"]] == list(VALUE_KINDS)
    kinds = {k["id"]: k for k in catalogue["items"][0]["value_kinds"]}
    assert kinds["level"]["units"] == ["currency", "tonne", "person", "count"]
    assert kinds["share_pct"]["units"] == ["percent"]
    assert all(kind["description"] for kind in kinds.values())
    units = {unit["id"] for unit in catalogue["units"]}
    assert units == {"currency", "percent", "tonne", "count", "rank", "person"}


# --- one spelling of party filters ----------------------------------------------------------

SPELLINGS = [
    ({"party": ["AZ", "RU"]}, {"parties": "AZ,RU"}),
    ({"party": ["RU", "AZ"]}, {"parties": "AZ, RU"}),
    ({"party": "RU", "parties": "AZ"}, {"parties": "RU,AZ"}),
]


@pytest.mark.parametrize("path", ["/commissions", "/statistics", "/trade-position"])
@pytest.mark.parametrize(("repeated", "listed"), SPELLINGS)
def test_both_spellings_of_a_party_filter_give_the_same_answer(
    client: TestClient,
    figures: Figures,
    path: str,
    repeated: dict[str, Any],
    listed: dict[str, str],
) -> None:
    one, other = read(client, path, **repeated), read(client, path, **listed)
    assert one.status_code == other.status_code == 200, (one.text, other.text)
    assert one.json() == other.json()
    assert one.json()["items" if path != "/trade-position" else "figures"]


@pytest.mark.parametrize("path", ["/commissions", "/statistics"])
def test_one_party_spelt_either_way_gives_the_same_answer(
    client: TestClient, figures: Figures, path: str
) -> None:
    one, other = read(client, path, party="TR"), read(client, path, parties="TR")
    assert one.status_code == other.status_code == 200
    assert one.json() == other.json()
    assert len(one.json()["items"]) == 1


@pytest.mark.parametrize("path", ["/commissions", "/statistics", "/trade-position"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"party": ["AZ", "ru"]}, "party"),
        ({"parties": "AZ,ru"}, "parties"),
        ({"parties": "AZ,"}, "parties"),
        ({"parties": "AZE,RU"}, "parties"),
        ({"party": "Azerbaijan"}, "party"),
        ({"party": ["AZ", "RU"], "parties": "TR"}, "parties"),
    ],
)
def test_a_party_code_not_written_as_the_record_writes_it_is_refused_by_name(
    client: TestClient, record: Record, path: str, params: dict[str, Any], field: str
) -> None:
    assert_problem(read(client, path, **params), 422, fields=(field,))


def test_the_trade_position_needs_two_parties_spelt_either_way(
    client: TestClient, record: Record
) -> None:
    assert_problem(read(client, "/trade-position", party="AZ"), 422, fields=("parties",))
    assert_problem(read(client, "/trade-position"), 422, fields=("parties",))
    assert read(client, "/trade-position", party=["AZ", "RU"]).status_code == 200


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/commissions", "partys"),
        (f"/commissions/{COMMISSION}", "as_at"),
        (f"/commissions/{COMMISSION}/timeline", "form"),
        (f"/commissions/{COMMISSION}/sessions", "state"),
        ("/statistics", "measures"),
        ("/sources", "lang"),
        (f"/sources/{SOURCE}", "after"),
        ("/declarations", "q"),
        ("/trade-position", "measures"),
        ("/measures", "limit"),
        ("/events", "from"),
        ("/health", "verbose"),
    ],
)
def test_an_unknown_parameter_is_refused_by_name_not_ignored(
    client: TestClient, record: Record, path: str, name: str
) -> None:
    params = {name: "2024", "parties": "AZ,RU"} if path == "/trade-position" else {name: "2024"}
    body = assert_problem(client.get(path, params=params), 422, fields=(name,))
    assert [error["field"] for error in body["errors"]] == [name]
    assert body["errors"][0]["message"].startswith("is not a parameter of this route")


@pytest.mark.parametrize("moment", ["2024", "1723248000", "2024-08-10"])
def test_an_as_of_that_is_not_an_rfc_3339_timestamp_is_refused(
    client: TestClient, record: Record, moment: str
) -> None:
    """A number is not read as seconds since 1970, nor a date as its midnight somewhere."""
    response = client.get(f"/commissions/{COMMISSION}", params={"as_of": moment})
    body = assert_problem(response, 422, fields=("as_of",))
    assert "RFC 3339" in body["errors"][0]["message"]


def test_every_unknown_parameter_is_named_at_once(client: TestClient, record: Record) -> None:
    body = assert_problem(read(client, "/statistics", sort="x", order="y"), 422)
    assert [error["field"] for error in body["errors"]] == ["order", "sort"]


def test_a_write_with_an_unknown_parameter_is_refused_and_stores_nothing(
    client: TestClient, record: Record, store: Store
) -> None:
    with store.unchanged():
        response = client.post("/sources", params={"dry_run": "1"}, json=source_body(id="another"))
        assert_problem(response, 422, fields=("dry_run",))


@pytest.mark.parametrize("path", [f"/commissions/{COMMISSION}/timeline", "/statistics"])
def test_a_range_whose_start_is_after_its_end_is_refused_naming_from(
    client: TestClient, record: Record, path: str
) -> None:
    assert_problem(
        read(client, path, **{"from": "2024-05", "to": "2024-01"}), 422, fields=("from",)
    )
    assert_problem(read(client, path, **{"from": "2025", "to": "2024-Q4"}), 422, fields=("from",))
    # Overlapping spans are a range: the year 2024 from its first quarter on.
    assert read(client, path, **{"from": "2024", "to": "2024-Q1"}).status_code == 200


def first_cursor(client: TestClient, path: str, **params: Any) -> str:
    page = read(client, path, limit=1, **params)
    assert page.status_code == 200, page.text
    cursor: str = page.json()["next_cursor"]
    assert cursor is not None
    return cursor


def test_a_cursor_of_another_route_is_refused_naming_cursor(
    client: TestClient, figures: Figures, sources: None
) -> None:
    statistics = first_cursor(client, "/statistics")
    from_sources = first_cursor(client, "/sources")
    commissions = first_cursor(client, "/commissions")
    timeline = first_cursor(client, f"/commissions/{COMMISSION}/timeline")
    for path, cursor in (
        ("/sources", statistics),
        ("/statistics", from_sources),
        ("/statistics", commissions),
        ("/commissions", from_sources),
        (f"/commissions/{COMMISSION}/sessions", timeline),
        (f"/commissions/{COMMISSION}/history", timeline),
        ("/declarations", statistics),
        ("/events", statistics),
    ):
        body = assert_problem(read(client, path, cursor=cursor), 422, fields=("cursor",))
        assert body["type"].endswith("invalid-cursor") or path == "/events"


def test_a_cursor_of_the_same_route_asked_with_other_filters_is_refused(
    client: TestClient, figures: Figures
) -> None:
    cursor = first_cursor(client, "/statistics", party="AZ")
    assert read(client, "/statistics", party="AZ", cursor=cursor).status_code == 200
    # The same filters spelt the other way are the same list.
    assert read(client, "/statistics", parties="AZ", cursor=cursor).status_code == 200
    refused = read(client, "/statistics", party="TR", cursor=cursor)
    body = assert_problem(refused, 422, fields=("cursor",), kind="invalid-cursor")
    assert "other filters" in body["errors"][0]["message"]
    timeline = first_cursor(client, f"/commissions/{COMMISSION}/timeline")
    assert_problem(
        read(client, f"/commissions/{AZ_TR}/timeline", cursor=timeline), 422, fields=("cursor",)
    )
