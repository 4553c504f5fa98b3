"""Writers racing for one aggregate: one wins each round, the others are refused whole, and
what was acknowledged is exactly what was stored."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from tests.http.helpers import (
    Record,
    assert_problem,
    convened_session_body,
    evidence,
    post,
    read,
    read_log,
    report_statistic,
    statistic_body,
)

WRITERS = 20


def race(server: TestClient, path: str, bodies: list[Any], **headers: str) -> list[Response]:
    """Sends the bodies at once, each from its own thread, through one client."""
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(lambda body: post(server, path, body, **headers), bodies))


def version(response: Response) -> int:
    return int(response.headers["ETag"].strip('"'))


def test_racing_statistics_at_one_session_store_exactly_those_acknowledged(
    server: TestClient, record: Record
) -> None:
    bodies = [statistic_body(remarks=f"writer {n}") for n in range(WRITERS)]

    responses = race(server, f"{record.session_path}/statistics", bodies)

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    assert statuses[201] >= 1
    for response in responses:
        if response.status_code == 409:
            assert assert_problem(response, 409)["type"].endswith("conflict")
    acknowledged = {r.json()["id"] for r in responses if r.status_code == 201}
    session = read(server, record.session_path)
    assert {s["id"] for s in session.json()["statistics"]} == acknowledged
    assert version(session) == 1 + len(acknowledged)
    reported = [e for e in read_log(server) if e["type"] == "StatisticReported"]
    assert len(reported) == len(acknowledged)
    assert {e["data"]["statistic_id"] for e in reported} == acknowledged

    # The losers were told nothing was stored, so retrying each is safe, and stores it.
    for body, response in zip(bodies, responses, strict=True):
        if response.status_code == 409:
            retried = post(server, f"{record.session_path}/statistics", body)
            assert retried.status_code == 201, retried.text
            acknowledged.add(retried.json()["id"])
    assert len(acknowledged) == WRITERS
    assert len(read(server, record.session_path).json()["statistics"]) == WRITERS


def test_writes_racing_with_the_same_if_match_let_at_most_one_through(
    server: TestClient, record: Record
) -> None:
    etag = read(server, record.session_path).headers["ETag"]
    bodies = [statistic_body(remarks=f"writer {n}") for n in range(10)]

    responses = race(server, f"{record.session_path}/statistics", bodies, **{"If-Match": etag})

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 412}, statuses
    assert statuses[201] <= 1
    for response in responses:
        if response.status_code == 412:
            assert_problem(response, 412, kind="stale-version")
    session = read(server, record.session_path)
    assert len(session.json()["statistics"]) == statuses[201]
    assert version(session) == 1 + statuses[201]


def test_two_corrections_of_one_statistic_with_the_same_if_match_do_not_both_succeed(
    server: TestClient, record: Record
) -> None:
    statistic = report_statistic(server, record)
    sid = statistic["id"]
    bodies = [
        {"changes": {"value": value}, "reason": f"Revised to {value}.", "evidence": evidence()}
        for value in ("4.5E9", "4.6E9")
    ]

    responses = race(
        server,
        f"/statistics/{sid}/corrections",
        bodies,
        **{"If-Match": f'"{statistic["version"]}"'},
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([201, 412], [412, 412]), statuses
    current = read(server, f"/statistics/{sid}").json()
    assert current["revision"] == 1 + statuses.count(201)
    corrected = [e for e in read_log(server) if e["type"] == "StatisticCorrected"]
    assert len(corrected) == statuses.count(201)


def test_racing_to_record_the_same_session_records_it_once(
    server: TestClient, record: Record
) -> None:
    bodies = [convened_session_body(ordinal=21, start="2023", summary=f"n{n}") for n in range(8)]

    responses = race(server, "/commissions/az-ru-economic/sessions", bodies)

    statuses = Counter(r.status_code for r in responses)
    assert statuses[201] == 1, statuses
    assert set(statuses) <= {201, 409, 422}, statuses
    for response in responses:
        if response.status_code != 201:
            assert_problem(response, response.status_code)
    [winner] = [r.json() for r in responses if r.status_code == 201]
    stored = read(server, "/commissions/az-ru-economic/sessions/21").json()
    assert stored["summary"] == winner["summary"]
    assert len([e for e in read_log(server) if e["type"] == "SessionConvened"]) == 2
