"""GET /events, the audit feed: the log in order, paged as JSON or streamed as NDJSON; and
the service's own documents: /health and /openapi.json."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.http.helpers import (
    MUSTAFAYEV,
    OVERCHUK,
    Record,
    assert_problem,
    co_chair_body,
    post,
    read_log,
    report_statistic,
    set_up_record,
)

NDJSON = "application/x-ndjson"

WRITES = {
    "/sources": "post",
    "/commissions": "post",
    "/commissions/{cid}/co-chairs": "post",
    "/commissions/{cid}/co-chairs/end": "post",
    "/commissions/{cid}/sessions": "post",
    "/commissions/{cid}/sessions/{key}/convened": "post",
    "/commissions/{cid}/sessions/{key}/cancellation": "post",
    "/commissions/{cid}/sessions/{key}/postponement": "post",
    "/commissions/{cid}/sessions/{key}/protocols": "post",
    "/commissions/{cid}/sessions/{key}/declarations": "post",
    "/commissions/{cid}/sessions/{key}/statistics": "post",
    "/commissions/{cid}/sessions/{key}/corrections": "post",
    "/statistics/{sid}/corrections": "post",
    "/statistics/{sid}/retraction": "post",
}
READS = {
    "/sources/{source_id}": "get",
    "/commissions/{cid}": "get",
    "/commissions/{cid}/sessions/{key}": "get",
    "/statistics/{sid}": "get",
    "/events": "get",
    "/health": "get",
}


def test_the_log_shows_every_write_in_record_order_with_its_data(
    client: TestClient, record: Record
) -> None:
    post(client, "/commissions/az-ru-economic/co-chairs", co_chair_body("RU"))
    statistic = report_statistic(client, record)

    log = read_log(client)

    types = [e["type"] for e in log]
    assert types[:5] == [
        "SourceRegistered",
        "SourceRegistered",
        "CommissionEstablished",
        "SessionConvened",
        "CoChairAppointed",
    ]
    assert "StatisticReported" in types[5:]
    positions = [e["position"] for e in log]
    assert positions == sorted(set(positions))
    first = log[0]
    assert first["data"]["slug"] == record.source
    assert first["version"] == 1
    assert first["recorded_at"].endswith("Z")
    assert first["recorded_by"]
    convened = log[3]
    assert [p["name"] for p in convened["data"]["co_chairs"]] == [MUSTAFAYEV, OVERCHUK]
    assert convened["data"]["start"] == "2024"
    assert log[4]["data"]["name"] == OVERCHUK
    [reported] = [e for e in log if e["type"] == "StatisticReported"]
    assert reported["data"]["statistic_id"] == statistic["id"]
    assert isinstance(reported["data"]["value"], str)
    assert reported["position"] <= statistic["position"] == positions[-1]


def test_the_log_is_paged_with_after_and_limit_or_the_opaque_cursor_and_nothing_else(
    client: TestClient,
) -> None:
    assert client.get("/events").json() == {"items": [], "next_after": None, "next_cursor": None}
    set_up_record(client)
    log = read_log(client)

    first = client.get("/events", params={"limit": 3}).json()
    second = client.get("/events", params={"after": first["next_after"], "limit": 3}).json()

    assert [e["position"] for e in first["items"]] == [e["position"] for e in log[:3]]
    assert first["next_after"] == log[2]["position"]
    assert [e["position"] for e in second["items"]] == [e["position"] for e in log[3:]]
    assert second["next_after"] is None
    assert second["next_cursor"] is None

    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = client.get("/events", params=params).json()
        items.extend(page["items"])
        if page["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert items == log

    after_last = client.get("/events", params={"after": log[-1]["position"]}).json()
    assert after_last == {"items": [], "next_after": None, "next_cursor": None}

    assert_problem(client.get("/events", params={"limit": 0}), 422, fields=("limit",))
    assert_problem(client.get("/events", params={"limit": 501}), 422, fields=("limit",))
    assert_problem(client.get("/events", params={"after": -1}), 422, fields=("after",))
    assert_problem(client.get("/events", params={"after": "first"}), 422, fields=("after",))
    assert_problem(client.get("/events", params={"cursor": "not-ours"}), 422, fields=("cursor",))


def test_a_cursor_of_unicode_digits_is_refused_not_a_server_error(
    server: TestClient, record: Record
) -> None:
    response = server.get("/events", params={"cursor": "²"})

    assert_problem(response, 422, fields=("cursor",))


def test_the_log_streams_as_ndjson_from_the_position_asked(
    client: TestClient, record: Record
) -> None:
    log = read_log(client)

    with client.stream("GET", "/events", headers={"Accept": NDJSON}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(NDJSON)
        streamed = [json.loads(line) for line in response.iter_lines() if line]
    later = client.get("/events", params={"after": log[1]["position"]}, headers={"Accept": NDJSON})

    assert streamed == log
    assert later.headers["content-type"].startswith(NDJSON)
    assert [json.loads(line) for line in later.text.splitlines() if line] == log[2:]


def test_the_service_says_it_is_alive_and_describes_itself_in_openapi(client: TestClient) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"

    response = client.get("/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "diprec"
    paths = document["paths"]
    missing = [p for p, method in {**WRITES, **READS}.items() if method not in paths.get(p, {})]
    assert not missing
    assert not [
        (path, method)
        for path, operations in paths.items()
        for method in operations
        if method in ("put", "patch", "delete")
    ]
    for path in WRITES:
        responses = paths[path]["post"]["responses"]
        assert "201" in responses, path
        assert "application/problem+json" in responses["422"]["content"], path
