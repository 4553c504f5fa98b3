"""What every write of the API shares: how it answers a good request, and how it refuses a bad
one, storing nothing.

Every write endpoint listed in ``tests/http/writes.py`` is checked, a family of them per
test: first every refusal, each proven to have stored nothing; then the good request, which
must be recorded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.http.conftest import Store
from tests.http.helpers import (
    NOT_IN_TEXT,
    Record,
    assert_created,
    assert_problem,
    dumps,
    post,
    raw_post,
    read,
    read_log,
)
from tests.http.writes import FAMILIES, WRITES, Write


def refused(store: Store, send: Any) -> Response:
    """Sends a request that must be refused, and checks that nothing was stored."""
    with store.unchanged():
        response: Response = send()
    return response


def check_shape_refusals(client: TestClient, store: Store, write: Write) -> None:
    path, body = write.path, write.body
    malformed = refused(store, lambda: raw_post(client, path, dumps(body)[:-1]))
    assert_problem(malformed, 400, kind="malformed-json")
    not_an_object = refused(store, lambda: raw_post(client, path, json.dumps([body])))
    assert_problem(not_an_object, 422)
    unknown_field = refused(store, lambda: post(client, path, {**body, "recorded_by": "me"}))
    assert_problem(unknown_field, 422, fields=("recorded_by",))
    number = refused(store, lambda: post(client, path, {**body, write.text_field: 4.4}))
    assert_problem(number, 422, fields=(write.text_field,))
    empty = refused(store, lambda: post(client, path, {}))
    assert_problem(empty, 422, fields=write.required)
    bodiless = refused(store, lambda: client.post(path))
    assert_problem(bodiless, bodiless.status_code)
    assert bodiless.status_code in (400, 415, 422)


def check_unknown_targets(client: TestClient, store: Store, write: Write) -> None:
    for path in write.unknown:
        response = refused(store, lambda path=path: post(client, path, write.body))
        assert_problem(response, 404, kind="not-found")


def check_evidence_refusals(client: TestClient, store: Store, record: Record, write: Write) -> None:
    path, body = write.path, write.body
    quote = body["evidence"][0]["quote"]

    def with_evidence(*items: dict[str, Any]) -> Response:
        return refused(store, lambda: post(client, path, {**body, "evidence": list(items)}))

    unknown = with_evidence({"source": "nowhere-at-all", "quote": quote})
    assert_problem(unknown, 404, fields=("evidence[0].source",), kind="not-found")
    second = with_evidence(body["evidence"][0], {"source": "no-such-source", "quote": quote})
    assert_problem(second, 404, fields=("evidence[1].source",), kind="not-found")
    not_quoted = with_evidence({"source": record.source, "quote": NOT_IN_TEXT})
    assert_problem(not_quoted, 422, fields=("evidence[0].quote",))
    as_number = with_evidence({"source": record.source, "quote": 4})
    assert_problem(as_number, 422, fields=("evidence[0].quote",))
    extra = with_evidence({**body["evidence"][0], "page": "2"})
    assert_problem(extra, 422, fields=("evidence[0].page",))
    too_long = with_evidence({"source": record.untexted_source, "quote": "x" * 2001})
    assert_problem(too_long, 422, fields=("evidence[0].quote",))
    if write.evidence_required:
        assert_problem(with_evidence(), 422, fields=("evidence",))


def check_if_match_refusals(client: TestClient, store: Store, write: Write) -> str:
    """Refuses stale, future and foreign ETags; returns the current one."""
    assert write.versioned is not None
    current = read(client, write.versioned).headers["ETag"]
    version = int(current.strip('"'))
    for stale in (f'"{version - 1}"', f'"{version + 1}"', "not-an-etag"):
        response = refused(
            store, lambda stale=stale: post(client, write.path, write.body, **{"If-Match": stale})
        )
        assert_problem(response, 412, kind="stale-version")
    return current


def check_write(client: TestClient, record: Record, store: Store, name: str) -> None:
    write = WRITES[name](client, record)
    check_shape_refusals(client, store, write)
    check_unknown_targets(client, store, write)
    if write.has_evidence:
        check_evidence_refusals(client, store, record, write)
    headers: dict[str, str] = {}
    if write.versioned is not None:
        headers["If-Match"] = check_if_match_refusals(client, store, write)
    before = read_log(client)[-1]["position"]

    response = post(client, write.path, write.body, **headers)

    body = assert_created(
        client, response, same_resource=write.location_served, ignore=write.read_differs
    )
    location = response.headers["Location"]
    if write.location.endswith("/"):
        assert location.startswith(write.location)
    else:
        assert location == write.location
    written = [e for e in read_log(client) if e["position"] > before]
    assert write.event in [e["type"] for e in written]
    assert body["position"] == written[-1]["position"] > before
    if write.versioned is not None:
        assert read(client, write.versioned).headers["ETag"] == response.headers["ETag"]
        assert int(response.headers["ETag"].strip('"')) > int(headers["If-Match"].strip('"'))


@pytest.mark.parametrize("family", FAMILIES)
def test_each_write_records_a_good_request_and_refuses_bad_ones_storing_nothing(
    client: TestClient, record: Record, store: Store, family: str
) -> None:
    for name in FAMILIES[family]:
        try:
            check_write(client, record, store, name)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error
