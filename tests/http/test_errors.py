"""Answers to requests the API has no place for: other methods, unknown paths, bodies that
are not JSON text."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.http.conftest import Store
from tests.http.helpers import Record, assert_problem, raw_post, source_body


def test_the_record_has_no_put_patch_or_delete_and_no_unknown_paths(
    client: TestClient, record: Record, store: Store
) -> None:
    resources = [
        f"/sources/{record.source}",
        f"/commissions/{record.commission}",
        record.session_path,
        "/sources",
        "/commissions",
    ]
    with store.unchanged():
        for path in resources:
            for method in ("PUT", "PATCH", "DELETE"):
                response = client.request(method, path, json={})
                assert_problem(response, 405)
                assert response.headers.get("Allow"), "a 405 names the methods allowed"
        unknown = client.get("/no/such/path")
    assert_problem(unknown, 404)


def test_text_that_is_not_unicode_is_refused_not_a_server_error(
    server: TestClient, store: Store
) -> None:
    body = json.dumps(source_body(title="Baku \ud800 hosts", text=None))  # escaped: \ud800

    with store.unchanged():
        response = raw_post(server, "/sources", body)

    assert response.status_code in (400, 422), response.text
    assert_problem(response, response.status_code)


def test_a_body_that_is_not_utf8_is_malformed_json(server: TestClient, store: Store) -> None:
    with store.unchanged():
        response = raw_post(server, "/sources", b'{"id": "\xff\xfe"}')

    assert_problem(response, 400, kind="malformed-json")
