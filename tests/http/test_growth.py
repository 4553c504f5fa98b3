"""A write past a bound of growth, or quoting too much in all, is a 422 naming what is full,
and stores nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from domain.values import MAX_DECLARATIONS, MAX_QUOTED
from tests.http.conftest import Store
from tests.http.helpers import Record, assert_problem, declaration_body, post, statistic_body


def test_quotes_of_more_than_5000_characters_in_all_are_refused_naming_the_evidence(
    client: TestClient, record: Record, store: Store
) -> None:
    quotes = [{"source": record.untexted_source, "quote": "q" * 2_000}] * 2 + [
        {"source": record.untexted_source, "quote": "q" * (MAX_QUOTED - 4_000 + 1)}
    ]
    with store.unchanged():
        response = post(
            client, f"{record.session_path}/statistics", statistic_body(evidence=quotes)
        )
    body = assert_problem(response, 422, fields=("evidence",), kind="invalid-fact")
    assert [error["field"] for error in body["errors"]] == ["evidence"]


def test_a_declaration_past_the_most_a_session_may_cite_is_refused_naming_the_session(
    client: TestClient, record: Record, store: Store
) -> None:
    path = f"{record.session_path}/declarations"
    for number in range(MAX_DECLARATIONS):
        cited = post(client, path, declaration_body(title=f"Declaration no. {number}"))
        assert cited.status_code == 201, cited.text
    with store.unchanged():
        response = post(client, path, declaration_body(title="One declaration more"))
    body = assert_problem(response, 422, fields=("session",), kind="invalid-fact")
    assert body["errors"] == [
        {
            "field": "session",
            "message": "session az-ru-economic/22 cites 20 declarations already; "
            "a session may cite at most 20",
        }
    ]
