"""The contract describes itself: every route of the OpenAPI document says what it does, shows
examples that really answer, declares exactly the statuses it can answer, and names its
response fields; /docs and /redoc load nothing from another host.

Every test walks the whole document, so a route added later is held to it too.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.demo import load_demo
from api.examples import NOT_EXAMPLED
from api.middleware import OPEN_PATHS
from domain.application import Records
from projections.runner import Projector

Operation = tuple[str, str, dict[str, Any]]

#: Statuses only a body can bring: a GET answers none of them.
BODY_STATUSES = {"400", "408", "413", "415"}
#: Statuses only a write can bring.
WRITE_STATUSES = {"409", "412"}
ALL = ("path", "query", "header")


def operations(document: dict[str, Any]) -> list[Operation]:
    return [
        (method, path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def parameters(operation: dict[str, Any], *places: str) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if p["in"] in places]


def body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    json = content.get("application/json")
    return None if json is None else dict(json["schema"])


def test_every_route_says_what_it_does(document: dict[str, Any]) -> None:
    undescribed = [
        f"{method.upper()} {path}"
        for method, path, operation in operations(document)
        if not operation.get("description", "").strip() or not operation.get("summary")
    ]
    assert not undescribed


def test_every_parameter_and_request_body_has_an_example(document: dict[str, Any]) -> None:
    missing = []
    for method, path, operation in operations(document):
        for parameter in parameters(operation, "path", "query"):
            if parameter["name"] not in NOT_EXAMPLED and not parameter.get("examples"):
                missing.append(f"{method.upper()} {path} ?{parameter['name']}")
        content = operation.get("requestBody", {}).get("content", {})
        for media_type, body in content.items():
            if not body.get("examples"):
                missing.append(f"{method.upper()} {path} body ({media_type})")
    assert not missing


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """The app's routes, those of its included routers too (the app includes each without a
    prefix of its own: the routers carry theirs)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        included = getattr(route, "original_router", None)
        if included is not None:
            found.extend(api_routes(included.routes))
    return found


def declared(client: TestClient) -> dict[tuple[str, str], set[str]]:
    """The statuses each route declares: its own, and those of its ``responses=``."""
    found: dict[tuple[str, str], set[str]] = {}
    for route in api_routes(client.app.routes):  # type: ignore[attr-defined]
        if route.include_in_schema:
            statuses = {str(status) for status in route.responses}
            statuses.add(str(route.status_code or 200))
            for method in route.methods or ():
                found[(method.lower(), route.path)] = statuses
    return found


def test_every_route_answers_with_exactly_the_statuses_it_declares(
    client: TestClient, document: dict[str, Any]
) -> None:
    routes = declared(client)
    schemas = document["components"]["schemas"]
    wrong = []
    for method, path, operation in operations(document):
        statuses = set(operation["responses"])
        name = f"{method.upper()} {path}"

        def expect(condition: bool, why: str, name: str = name) -> None:
            if not condition:
                wrong.append(f"{name}: {why}")

        expect(statuses == routes.get((method, path)), f"documents {statuses} beyond its own")
        expect("HTTPValidationError" not in str(operation), "documents FastAPI's own 422")
        body = body_schema(operation)
        body_fields = schemas.get((body or {}).get("$ref", "").rsplit("/", 1)[-1], {})
        is_open = path in OPEN_PATHS or path.startswith("/problems/")
        if method == "get":
            expect(not statuses & (BODY_STATUSES | WRITE_STATUSES), "a GET with body's statuses")
            expect(path.startswith("/admin") or "403" not in statuses, "403 on a read")
        else:
            expect(body is not None, "a write without a body")
            expect(BODY_STATUSES | {"422"} <= statuses, "a body's statuses missing")
            expect("403" in statuses, "a write any key may make")
            expect("409" in statuses, "a write no other can race")
        if_match = any(p["name"].lower() == "if-match" for p in parameters(operation, "header"))
        expect(("412" in statuses) == if_match, "412 exactly where If-Match is taken")
        looks_up = "{" in path or "evidence" in body_fields.get("properties", {})
        expect(("404" in statuses) == looks_up, "404 exactly where something is looked up")
        # Every route refuses a query parameter it does not take.
        expect("422" in statuses, "no 422, though a parameter it does not take is refused")
        expect(is_open or "401" in statuses, "a key is looked at, and no 401")
        if path == "/health" or path.startswith("/problems/"):
            expect(statuses <= {"200", "404", "422"}, "asks nothing of the database, yet may fail")
        for status, answer in operation["responses"].items():
            expect(bool(answer.get("description")), f"{status} says nothing of when")
            if status.startswith(("4", "5")):
                expect(
                    "application/problem+json" in answer.get("content", {}),
                    f"{status} is not problem+json",
                )
    assert not wrong


def undescribed_properties(schema: Any, where: str) -> list[str]:
    """Properties of ``schema``, and of every object nested in it, without a description."""
    found = []
    if isinstance(schema, dict):
        for name, property_schema in schema.get("properties", {}).items():
            if not property_schema.get("description"):
                found.append(f"{where}.{name}")
            found.extend(undescribed_properties(property_schema, f"{where}.{name}"))
        for key in ("items", "additionalProperties", "anyOf", "allOf", "oneOf"):
            if key in schema:
                found.extend(undescribed_properties(schema[key], where))
    elif isinstance(schema, list):
        for item in schema:
            found.extend(undescribed_properties(item, where))
    return found


def referred(document: dict[str, Any], start: Any) -> set[str]:
    schemas = document["components"]["schemas"]
    names: set[str] = set()
    pending = [start]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                if name not in names:
                    names.add(name)
                    pending.append(schemas[name])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return names


def test_every_field_of_every_response_is_described(document: dict[str, Any]) -> None:
    answers = [
        answer
        for _, _, operation in operations(document)
        for answer in operation["responses"].values()
    ]
    names = referred(document, answers)
    assert {"Problem", "SessionView", "CommissionWritten"} <= names
    schemas = document["components"]["schemas"]
    missing = [
        field for name in sorted(names) for field in undescribed_properties(schemas[name], name)
    ]
    missing += undescribed_properties(answers, "inline")
    assert not missing, missing


ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_interactive_docs_load_nothing_from_another_host(client: TestClient, page: str) -> None:
    anonymous = TestClient(client.app)
    response = anonymous.get(page)
    assert response.status_code == 200
    html = response.text
    # Nor may the browser: the page's policy allows its own origin only (and inline code).
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert not re.search(r"https?:|\*", policy), policy
    assert "cdn" not in html.lower()
    assert "//" not in re.sub(r"<script>[\s\S]*?</script>", "", html).replace("<!DOCTYPE", "")
    urls = [first or second for first, second in ASSET.findall(html)]
    assert len(urls) >= 2
    for url in urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = anonymous.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
    if page == "/docs":
        assert '"validatorUrl": null' in html  # Swagger UI asks no validator on the internet
        assert anonymous.get("/docs/oauth2-redirect").status_code == 200


def url_of(path: str, operation: dict[str, Any], values: dict[str, str]) -> str:
    """The path with the examples of its parameters (``values`` for those not exampled)."""
    query: list[tuple[str, Any]] = []
    for parameter in parameters(operation, "path", "query"):
        name = parameter["name"]
        examples = parameter.get("examples")
        if examples is None:
            if parameter["in"] == "path":
                path = path.replace("{" + name + "}", values[name])
            continue
        value = next(iter(examples.values()))["value"]
        if parameter["in"] == "path":
            path = path.replace("{" + name + "}", str(value))
        elif isinstance(value, list):
            query.extend((name, item) for item in value)
        else:
            query.append((name, value))
    return path + ("?" + urlencode(query) if query else "")


def test_every_example_of_a_read_answers_on_the_demo_record(
    client: TestClient, pg_records: Records, document: dict[str, Any]
) -> None:
    loaded = load_demo(pg_records)
    assert loaded.position is not None
    wait = {"min_position": str(loaded.position)}
    session = client.get("/commissions/az-ru-economic/sessions/22", params=wait).json()
    values = {"sid": session["statistics"][0]["id"]}
    asked = []
    for method, path, operation in operations(document):
        if method != "get":
            continue
        url = url_of(path, operation, values)
        if any(p["name"] == "min_position" for p in parameters(operation, "query")):
            url += ("&" if "?" in url else "?") + urlencode(wait)
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        if "items" in body:
            assert body["items"], url
        asked.append(url)
    assert len(asked) >= 15


#: The writes in the order a record is written: what each example refers to comes before it.
RECORD_ORDER = [
    "/sources",
    "/commissions",
    "/commissions/{cid}/co-chairs",
    "/commissions/{cid}/sessions",
    "/commissions/{cid}/sessions/{key}/declarations",
    "/commissions/{cid}/sessions/{key}/statistics",
    "/commissions/{cid}/sessions/{key}/protocols",
    # The demo record is written by now; then facts beyond it.
    "/commissions/{cid}/sessions/{key}/corrections",
    "/commissions/{cid}/sessions/{key}/convened",
    "/commissions/{cid}/sessions/{key}/postponement",
    "/commissions/{cid}/sessions/{key}/cancellation",
    "/commissions/{cid}/co-chairs/end",
    "/statistics/{sid}/corrections",
    "/statistics/{sid}/retraction",
    # The demo source's text, registered last: every quote before is checked against it.
    "/sources/{source_id}/text",
    "/admin/rebuilds",
]
DEMO_WRITTEN = RECORD_ORDER.index("/commissions/{cid}/sessions/{key}/protocols")


def test_every_example_of_a_write_is_recorded_in_record_order(
    client: TestClient, pg_records: Records, projector: Projector, document: dict[str, Any]
) -> None:
    writes = {
        path: operation for method, path, operation in operations(document) if method == "post"
    }
    assert set(writes) == set(RECORD_ORDER), "place each write in RECORD_ORDER"
    values: dict[str, str] = {}
    for index, path in enumerate(RECORD_ORDER):
        operation = writes[path]
        url = url_of(path, operation, values)
        for name, example in operation["requestBody"]["content"]["application/json"][
            "examples"
        ].items():
            response = client.post(url, json=example["value"])
            assert 200 <= response.status_code < 300, (url, name, response.text)
            if path.endswith("/statistics") and "sid" not in values:
                values["sid"] = response.json()["id"]
        if index == DEMO_WRITTEN:
            assert load_demo(pg_records).added == [], "the examples are the demo record"
    deadline = time.monotonic() + 60
    while any(projector.is_rebuilding(name) for name in projector.models):
        assert time.monotonic() < deadline, "the rebuilds of the examples did not end"
        time.sleep(0.05)
