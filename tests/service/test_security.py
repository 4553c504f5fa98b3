"""Keys and roles, idempotency, input limits, headers and CORS, through HTTP on PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.demo import COMMISSION, SESSION, load_demo
from api.security import WATCHER, ApiKeyError, ApiKeys
from api.settings import Settings
from domain.application import Records
from projections.runner import Projector
from tests.demo_writes import STATISTIC, STATISTICS
from tests.integration.cli import RunCli


@pytest.fixture
def keys(projector: Projector) -> ApiKeys:
    return ApiKeys(projector.store.pool)


def service(records: Records, projector: Projector, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(**settings), records, projector))


@pytest.fixture
def anonymous(pg_records: Records, projector: Projector) -> Iterator[TestClient]:
    load_demo(pg_records)
    projector.catch_up()
    with service(pg_records, projector) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def stored(records: Records) -> int:
    return records.recorder.max_notification_id() or 0


def test_without_a_key_reads_and_writes_get_401(anonymous: TestClient) -> None:
    for response in (
        anonymous.get(f"/commissions/{COMMISSION}"),
        anonymous.post(STATISTICS, json=STATISTIC),
        anonymous.get("/events"),
    ):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"


def test_health_ready_and_the_api_description_need_no_key(anonymous: TestClient) -> None:
    assert anonymous.get("/health").status_code == 200
    assert anonymous.get("/ready").status_code == 200
    assert anonymous.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("key", ["dpr_000000000000_" + "x" * 43, "not-a-key", "Bearer"])
def test_an_unknown_or_malformed_key_gets_401(anonymous: TestClient, key: str) -> None:
    response = anonymous.get(f"/commissions/{COMMISSION}", headers=bearer(key))
    assert response.status_code == 401


def test_a_reader_key_reads_but_cannot_write(
    anonymous: TestClient, keys: ApiKeys, pg_records: Records
) -> None:
    _, key = keys.create("reader-1", "reader")
    before = stored(pg_records)

    assert anonymous.get(f"/commissions/{COMMISSION}", headers=bearer(key)).status_code == 200
    write = anonymous.post(STATISTICS, json=STATISTIC, headers=bearer(key))

    assert write.status_code == 403
    assert "recorder" in write.json()["detail"]
    assert stored(pg_records) == before


def test_a_recorder_writes_as_itself_but_cannot_rebuild(
    anonymous: TestClient, keys: ApiKeys, pg_records: Records
) -> None:
    _, key = keys.create("alice", "recorder")

    written = anonymous.post(STATISTICS, json=STATISTIC, headers=bearer(key))
    rebuild = anonymous.post("/admin/rebuilds", json={}, headers=bearer(key))

    assert written.status_code == 201
    events = pg_records.recorder.select_notifications(start=written.json()["position"], limit=1)
    assert json.loads(events[0].state)["recorded_by"] == "alice"
    assert rebuild.status_code == 403


def test_an_admin_may_rebuild(anonymous: TestClient, keys: ApiKeys) -> None:
    _, key = keys.create("root", "admin")
    response = anonymous.post(
        "/admin/rebuilds", json={"read_models": ["history"]}, headers=bearer(key)
    )
    assert response.status_code == 202
    assert response.json()["read_models"] == ["history"]


def refused_within(client: TestClient, key: str, seconds: float = 5.0) -> float:
    """Seconds until a read with ``key`` is answered 401; fails after ``seconds``."""
    started = time.monotonic()
    while client.get(f"/commissions/{COMMISSION}", headers=bearer(key)).status_code != 401:
        assert time.monotonic() - started < seconds, "the key was still accepted"
        time.sleep(0.005)
    return time.monotonic() - started


def test_a_revoked_key_stops_working_as_the_revocation_is_announced(
    anonymous: TestClient, keys: ApiKeys
) -> None:
    key_id, key = keys.create("bob", "recorder")
    assert anonymous.get(f"/commissions/{COMMISSION}", headers=bearer(key)).status_code == 200
    assert anonymous.app.state.api_keys.watch.listening  # type: ignore[attr-defined]

    keys.revoke(key_id)

    refused_within(anonymous, key)
    assert anonymous.post(STATISTICS, json=STATISTIC, headers=bearer(key)).status_code == 401


def test_a_key_revoked_by_plain_sql_is_refused_too(
    anonymous: TestClient, keys: ApiKeys, projector: Projector
) -> None:
    key_id, key = keys.create("dora", "reader")
    assert anonymous.get(f"/commissions/{COMMISSION}", headers=bearer(key)).status_code == 200

    with projector.store.transaction() as cursor:
        cursor.execute("UPDATE diprec_api_keys SET role = 'reader' WHERE id = %s", (key_id,))
        cursor.execute("DELETE FROM diprec_api_keys WHERE id = %s", (key_id,))

    refused_within(anonymous, key)


def test_without_its_watch_the_service_looks_every_key_up(
    anonymous: TestClient, keys: ApiKeys, projector: Projector
) -> None:
    key_id, key = keys.create("erin", "reader")
    watched: ApiKeys = anonymous.app.state.api_keys  # type: ignore[attr-defined]
    assert anonymous.get(f"/commissions/{COMMISSION}", headers=bearer(key)).status_code == 200

    # Cut the watcher's connection: until it listens again, nothing is remembered, so a
    # revocation made meanwhile is seen by the very next request.
    with projector.store.transaction() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (WATCHER,),
        )
    deadline = time.monotonic() + 5
    while watched.watch.listening:
        assert time.monotonic() < deadline, "the watch did not notice its connection was cut"
        time.sleep(0.005)
    keys.revoke(key_id)
    assert anonymous.get(f"/commissions/{COMMISSION}", headers=bearer(key)).status_code == 401

    deadline = time.monotonic() + 10
    while not watched.watch.listening:
        assert time.monotonic() < deadline, "the watch did not come back"
        time.sleep(0.01)
    _, other = keys.create("fred", "reader")
    assert anonymous.get(f"/commissions/{COMMISSION}", headers=bearer(other)).status_code == 200


def test_keys_are_stored_hashed_never_in_clear(keys: ApiKeys, projector: Projector) -> None:
    key_id, key = keys.create("carol", "reader")
    secret = key.removeprefix(f"dpr_{key_id}_")  # the secret may itself hold "_"
    assert len(secret) == 43
    with projector.store.transaction() as cursor:
        cursor.execute("SELECT * FROM diprec_api_keys")
        rows = json.dumps(cursor.fetchall(), default=str)
    assert secret not in rows
    assert key not in rows


def test_a_name_names_one_key_revoked_or_not(keys: ApiKeys) -> None:
    key_id, _ = keys.create("alice", "recorder")
    with pytest.raises(ApiKeyError, match="a key named 'alice' exists already"):
        keys.create("alice", "reader")
    keys.revoke(key_id)
    with pytest.raises(ApiKeyError, match="exists already"):
        keys.create("alice", "recorder")


def test_names_taken_twice_before_they_had_to_be_unique_are_told_apart_at_start(
    keys: ApiKeys, projector: Projector
) -> None:
    with projector.store.transaction() as cursor:
        cursor.execute("DROP INDEX diprec_api_keys_name")  # as the table was made before
        cursor.execute(
            "INSERT INTO diprec_api_keys (id, name, role, secret_sha256, created_at) VALUES "
            "('aaaaaaaaaaaa', 'dana', 'reader', 'x', now() - interval '1 day'), "
            "('bbbbbbbbbbbb', 'dana', 'recorder', 'y', now())"
        )
    keys.create_table()
    assert sorted(info.name for info in keys.list()) == ["dana", "dana-bbbbbbbbbbbb"]
    with pytest.raises(ApiKeyError):
        keys.create("dana", "reader")


def test_an_idempotency_key_belongs_to_the_api_key_that_sent_it(
    anonymous: TestClient, keys: ApiKeys, pg_records: Records
) -> None:
    _, erin = keys.create("erin", "recorder")
    _, frank = keys.create("frank", "recorder")
    headers = {"Idempotency-Key": "shared-key-1"}

    first = anonymous.post(STATISTICS, json=STATISTIC, headers={**headers, **bearer(erin)})
    second = anonymous.post(STATISTICS, json=STATISTIC, headers={**headers, **bearer(frank)})

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]  # recorded twice: two requests
    recorded_by = [
        json.loads(n.state)["recorded_by"]
        for n in pg_records.recorder.select_notifications(start=1, limit=1000)
    ]
    assert recorded_by.count("erin") == recorded_by.count("frank") > 0


def test_anonymous_reads_are_opened_only_by_the_setting(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    projector.catch_up()
    with service(pg_records, projector, anonymous_reads=True) as client:
        assert client.get(f"/commissions/{COMMISSION}").status_code == 200
        assert client.post(STATISTICS, json=STATISTIC).status_code == 401


def test_a_retry_with_the_same_idempotency_key_records_once_and_answers_the_same(
    client: TestClient, pg_records: Records
) -> None:
    load_demo(pg_records)
    headers = {"Idempotency-Key": "9a1b8c76-retry"}

    first = client.post(STATISTICS, json=STATISTIC, headers=headers)
    position = stored(pg_records)
    again = client.post(
        STATISTICS,
        content=json.dumps(STATISTIC, indent=2),
        headers={**headers, "content-type": "application/json"},
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert stored(pg_records) == position


def test_the_same_idempotency_key_with_another_body_is_refused(
    client: TestClient, pg_records: Records
) -> None:
    load_demo(pg_records)
    headers = {"Idempotency-Key": "k-1"}
    assert client.post(STATISTICS, json=STATISTIC, headers=headers).status_code == 201
    position = stored(pg_records)

    response = client.post(STATISTICS, json={**STATISTIC, "value": "1.3E9"}, headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert stored(pg_records) == position


def test_concurrent_retries_with_one_key_record_the_fact_once(
    client: TestClient, pg_records: Records
) -> None:
    load_demo(pg_records)
    before = len(pg_records.session(COMMISSION, SESSION).statistics)
    headers = {"Idempotency-Key": "concurrent-1"}

    with ThreadPoolExecutor(8) as pool:
        responses = list(
            pool.map(lambda _: client.post(STATISTICS, json=STATISTIC, headers=headers), range(8))
        )

    assert {r.status_code for r in responses} == {201}, [
        r.text for r in responses if r.status_code != 201
    ]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(pg_records.session(COMMISSION, SESSION).statistics) == before + 1


def test_an_idempotency_key_survives_a_restart_of_the_service(
    client: TestClient, pg_records: Records, projector: Projector, database: Any
) -> None:
    load_demo(pg_records)
    headers = {"Idempotency-Key": "durable-1", **client.headers}
    first = client.post(STATISTICS, json=STATISTIC, headers=headers)
    restarted = database.open_records()
    try:
        with service(restarted, projector) as fresh:
            again = fresh.post(STATISTICS, json=STATISTIC, headers=headers)
    finally:
        restarted.close()
    assert again.status_code == 201
    assert again.json() == first.json()


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"measure": ', "application/json", 400),
        (b"measure=imports", "application/x-www-form-urlencoded", 415),
        (b"[" * 100 + b"]" * 100, "application/json", 400),
        (json.dumps({"evidence": [[[[[[[[[[1]]]]]]]]]]}).encode(), "application/json", 400),
        (b"x" * 2_000_001, "application/json", 413),
    ],
)
def test_bad_bodies_get_a_problem_and_store_nothing(
    client: TestClient, pg_records: Records, content: bytes, content_type: str, status: int
) -> None:
    load_demo(pg_records)
    before = stored(pg_records)

    response = client.post(STATISTICS, content=content, headers={"content-type": content_type})

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert stored(pg_records) == before


def test_unknown_fields_and_over_long_strings_are_refused(
    client: TestClient, pg_records: Records
) -> None:
    load_demo(pg_records)
    response = client.post(
        STATISTICS, json={**STATISTIC, "remarks": "x" * 6000, "confidence": "high"}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"confidence"}
    response = client.post(STATISTICS, json={**STATISTIC, "remarks": "x" * 6000})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"remarks"}


def test_responses_carry_security_headers_and_no_cors_by_default(client: TestClient) -> None:
    response = client.get("/health", headers={"Origin": "https://example.org"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "access-control-allow-origin" not in response.headers


def test_cors_answers_only_the_origins_configured(
    pg_records: Records, projector: Projector
) -> None:
    with service(pg_records, projector, cors_origins=["https://analysts.example"]) as client:
        allowed = client.options(
            "/health",
            headers={"Origin": "https://analysts.example", "Access-Control-Request-Method": "GET"},
        )
        other = client.get("/health", headers={"Origin": "https://elsewhere.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://analysts.example"
    assert "access-control-allow-origin" not in other.headers


def test_errors_reveal_no_internals(client: TestClient) -> None:
    responses = [
        client.get("/commissions/none/sessions/1"),
        client.get("/statistics/not-a-uuid"),
        client.get("/trade-position?parties=AZ;DROP TABLE diprec_events"),
        client.get("/commissions?cursor=%27%3B--"),
    ]
    for response in responses:
        assert response.status_code in (404, 422)
        text = response.text
        for leak in ("Traceback", "psycopg", "SELECT", "/work/", ".py"):
            assert leak not in text


def test_a_keys_last_use_is_written_out_and_forgets_no_remembered_key(
    anonymous: TestClient, keys: ApiKeys
) -> None:
    key_id, key = keys.create("erin", "reader")
    [listed] = [info for info in keys.list() if info.id == key_id]
    assert listed.last_used_at is None
    assert listed.created_at is not None

    served: ApiKeys = anonymous.app.state.api_keys  # type: ignore[attr-defined]
    before = datetime.now(UTC)
    assert anonymous.get(f"/commissions/{COMMISSION}", headers=bearer(key)).status_code == 200
    assert served.remembered(key) is not None
    stamp = served.watch.stamp()

    assert served.write_uses() == 1
    assert served.write_uses() == 0  # each use is written out once
    [listed] = [info for info in keys.list() if info.id == key_id]
    assert listed.last_used_at is not None
    assert before - timedelta(seconds=1) <= listed.last_used_at <= datetime.now(UTC)
    # Writing a use out announces no change of the keys: the revocation after it is the one
    # change announced (announcements arrive in commit order), and erin's key stays remembered.
    other, _ = keys.create("erin-other", "reader")
    keys.revoke(other)
    deadline = time.monotonic() + 5
    while served.watch.stamp() == stamp:
        assert time.monotonic() < deadline, "the revocation was not announced"
        time.sleep(0.01)
    assert served.watch.stamp() == stamp + 1  # type: ignore[operator]
    assert served.remembered(key) is None  # forgotten by the revocation's announcement alone


def test_keys_list_has_a_header_and_says_when_each_key_was_made_and_last_used(
    database_url: str, run_cli: RunCli
) -> None:
    env = {"DATABASE_URL": database_url}
    run_cli("keys", "create", "frank", "--role", "reader", env=env)
    header, *rows = run_cli("keys", "list", env=env).stdout.splitlines()
    assert header.split() == ["ID", "ROLE", "CREATED", "LAST", "USED", "STATE", "NAME"]
    [row] = [row for row in rows if row.endswith("frank")]
    key_id, role, day, minute, last_used, state, name = row.split()
    assert (role, last_used, state, name) == ("reader", "never", "active", "frank")
    made = datetime.strptime(f"{day} {minute}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - made) < timedelta(minutes=2)
    assert len(key_id) == 12
