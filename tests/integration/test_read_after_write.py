"""Read after write, by default: a read that arrives after a write was acknowledged answers with
that write, on every route answered from the read models, without ``min_position``.

The service runs with its projection runner, as ``diprec serve`` does; the reads below pass no
``min_position``, as a client following a ``201``'s ``Location`` does not.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import ApiKeys
from api.settings import Settings
from domain.application import Records
from projections.runner import Projector
from projections.store import EVENTS_TABLE
from tests.http.helpers import (
    COMMISSION,
    SESSION,
    commission_body,
    convened_session_body,
    scheduled_session_body,
    source_body,
    statistic_body,
    untexted_source_body,
)

ITERATIONS = 40


def created(client: TestClient, path: str, body: dict[str, object]) -> str:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    location: str = response.headers["Location"]
    return location


@pytest.fixture
def sources(client: TestClient) -> None:
    created(client, "/sources", source_body())
    created(client, "/sources", untexted_source_body())


def test_following_location_right_after_a_201_never_answers_404(
    client: TestClient, sources: None
) -> None:
    for index in range(ITERATIONS):
        location = created(
            client, "/commissions", commission_body(id=f"commission-{index}", parties=["AZ", "RU"])
        )
        shown = client.get(location)
        assert shown.status_code == 200, (index, shown.text)
        assert shown.json()["id"] == f"commission-{index}"
    sessions = f"/commissions/{COMMISSION}/sessions"
    created(client, "/commissions", commission_body())
    for index in range(ITERATIONS):
        location = created(client, sessions, scheduled_session_body(ordinal=30 + index))
        shown = client.get(location)
        assert shown.status_code == 200, (index, shown.text)
        assert shown.json()["ordinal"] == 30 + index
    created(client, sessions, convened_session_body())
    for index in range(ITERATIONS):
        location = created(
            client, f"{sessions}/{SESSION}/statistics", statistic_body(value=str(1000 + index))
        )
        shown = client.get(location)
        assert shown.status_code == 200, (index, shown.text)
        assert shown.json()["value"] == str(1000 + index)


def test_a_new_item_is_on_its_list_page_right_after_its_201(
    client: TestClient, sources: None
) -> None:
    for index in range(ITERATIONS // 2):
        slug = f"listed-{index:02}"
        created(client, "/commissions", commission_body(id=slug, parties=["AZ", "RU"]))
        page = client.get("/commissions", params={"party": "AZ", "limit": 500})
        assert page.status_code == 200, page.text
        assert slug in {item["id"] for item in page.json()["items"]}, index
    created(client, "/commissions", commission_body())
    for index in range(ITERATIONS // 2):
        created(
            client,
            f"/commissions/{COMMISSION}/sessions",
            scheduled_session_body(ordinal=30 + index),
        )
        page = client.get(f"/commissions/{COMMISSION}/sessions", params={"limit": 500})
        assert page.status_code == 200, page.text
        assert 30 + index in {item["ordinal"] for item in page.json()["items"]}, index
        timeline = client.get(f"/commissions/{COMMISSION}/timeline", params={"limit": 500})
        assert timeline.status_code == 200, timeline.text
        history = client.get(f"/commissions/{COMMISSION}/history", params={"limit": 500})
        assert history.json()["position"] >= page.json()["position"]
    created(client, f"/commissions/{COMMISSION}/sessions", convened_session_body())
    for index in range(ITERATIONS // 2):
        written = client.post(
            f"/commissions/{COMMISSION}/sessions/{SESSION}/statistics",
            json=statistic_body(value=str(5000 + index)),
        )
        assert written.status_code == 201, written.text
        statistic = written.json()["id"]
        trade = client.get("/trade-position", params={"parties": "AZ,RU"})
        assert trade.status_code == 200, trade.text
        assert statistic in {figure["id"] for figure in trade.json()["figures"]}, index
        assert trade.json()["position"] >= written.json()["position"]


def test_eventual_consistency_is_an_option_every_read_route_offers(
    client: TestClient, sources: None
) -> None:
    location = created(client, "/commissions", commission_body())
    answered = client.get(location, params={"consistency": "eventual"})
    # Timing decides whether the read models had the commission yet; either answer is right.
    assert answered.status_code in (200, 404), answered.text
    strong = client.get(location, params={"consistency": "strong"})
    assert strong.status_code == 200, strong.text

    schema = client.get("/openapi.json").json()
    gets = {path: ops["get"] for path, ops in schema["paths"].items() if "get" in ops}
    reads = {
        path: operation
        for path, operation in gets.items()
        if any(p["name"] == "consistency" for p in operation.get("parameters", []))
    }
    # Every other read answers from the log itself, or from nothing recorded at all (the
    # measures are the code's catalogue).
    assert set(gets) - set(reads) == {
        "/health",
        "/ready",
        "/events",
        "/measures",
        "/problems/{kind}",
    }
    assert len(reads) == 14  # every read of the record, the new lists and a source included
    for path, operation in reads.items():
        [consistency] = [p for p in operation["parameters"] if p["name"] == "consistency"]
        assert consistency["in"] == "query", path
        assert consistency["schema"]["enum"] == ["strong", "eventual"], path
        assert consistency["schema"]["default"] == "strong", path
        assert "acknowledged before this read arrived" in consistency["description"], path


@pytest.mark.parametrize("value", ["weak", "STRONG", ""])
def test_a_consistency_the_service_does_not_know_is_refused_naming_it(
    client: TestClient, sources: None, value: str
) -> None:
    created(client, "/commissions", commission_body())
    for path, params in (
        (f"/commissions/{COMMISSION}", {}),
        ("/commissions", {}),
        ("/trade-position", {"parties": "AZ,RU"}),
    ):
        refused = client.get(path, params={**params, "consistency": value})
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"] == "/problems/invalid-request"
        assert [error["field"] for error in refused.json()["errors"]] == ["consistency"]


@pytest.fixture
def unprojected(pg_records: Records, projector: Projector) -> Iterator[TestClient]:
    """The service with nobody keeping its read models up to date, waiting 0.3 s at most."""
    with TestClient(create_app(Settings(read_wait_seconds=0.3), pg_records, projector)) as client:
        _, key = ApiKeys(projector.store.pool).create("tester", "admin")
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def test_a_read_the_read_models_cannot_answer_in_time_gets_503_with_retry_after(
    unprojected: TestClient, projector: Projector
) -> None:
    created(unprojected, "/sources", source_body())
    location = created(unprojected, "/commissions", commission_body())

    refused = unprojected.get(location)
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["type"] == "/problems/not-ready"
    listed = unprojected.get("/commissions")
    assert (listed.status_code, listed.json()["type"]) == (503, "/problems/not-ready")
    # Asked for what the read models hold now, the read is answered at once: without the write.
    eventual = unprojected.get(location, params={"consistency": "eventual"})
    assert eventual.status_code == 404, eventual.text

    projector.catch_up()
    assert unprojected.get(location).status_code == 200


def test_a_log_head_that_cannot_be_read_in_time_gets_503_with_retry_after(
    unprojected: TestClient, projector: Projector
) -> None:
    created(unprojected, "/sources", source_body())
    location = created(unprojected, "/commissions", commission_body())
    projector.catch_up()
    assert unprojected.get(location).status_code == 200

    # Another transaction holds the events table: the query of the log's head waits for it.
    with psycopg.connect(projector.store.conninfo) as holder:
        holder.execute(f"LOCK TABLE {EVENTS_TABLE} IN ACCESS EXCLUSIVE MODE")
        refused = unprojected.get(location)
        eventual = unprojected.get(location, params={"consistency": "eventual"})
        holder.rollback()
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["type"] == "/problems/not-ready"
    assert "the log's last position could not be read within 0.3 s" in refused.json()["detail"]
    assert eventual.status_code == 200, eventual.text

    assert unprojected.get(location).status_code == 200


def test_the_log_heads_connection_is_closed_whatever_loop_the_reads_ran_on(
    pg_records: Records, projector: Projector
) -> None:
    """A client without a lifespan runs each request on a loop of its own: the connection the
    head was read over on an ended loop is closed, not left to the garbage collector."""
    app = create_app(Settings(), pg_records, projector)
    _, key = ApiKeys(projector.store.pool).create("loops", "reader")
    client = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    for _ in range(3):  # each on a new loop: the last one's connection is closed first
        assert client.get("/commissions").status_code == 200
    del client, app
    gc.collect()  # a connection collected open warns here, which fails the test (-W error)
