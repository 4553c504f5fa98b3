"""The API's OpenAPI document: what each route answers, and the document itself.

Each route declares the statuses it can really answer with ``read_answers`` or
``write_answers`` (``responses=``), nothing more: no status is added to every route. The
document built by ``document`` adds the Problem schema those answers refer to, the examples
of ``api/examples.py`` (parameters and request bodies), and the descriptions of response
fields the views leave undescribed (``api/views.py``'s ``FIELDS``).

Which statuses a route can answer follows from what it does:

- a key is looked at (every path but the open ones): ``401``; a role above reader (every
  write, and ``/admin``): ``403``;
- a commission, session, source or statistic is looked up (a path parameter, or a quote's
  source): ``404``;
- parameters or a body: ``422``; a body: ``400``, ``408``, ``413``, ``415``;
- a write: ``409`` (a concurrent write won), ``412`` (If-Match);
- the database is asked (anything but ``/health`` and the problem types): ``503``.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.examples import BODIES, NOT_EXAMPLED, parameter_examples
from api.views import FIELDS

PROBLEM_JSON = "application/problem+json"
PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}

Responses = dict[int | str, dict[str, Any]]

#: When each refusal is answered, as the document says it.
WHEN: dict[int, str] = {
    400: "The body is not JSON, nests deeper than 8 levels, or holds more than 2,000 arrays "
    "and objects. Nothing was recorded.",
    401: "No valid API key was sent (`Authorization: Bearer <key>`).",
    403: "The API key's role does not allow this: recording needs the recorder role, "
    "administration the admin role.",
    404: "No such commission, session, source or statistic.",
    408: "The body was not all sent within the request timeout; the connection is closed.",
    409: "Another write changed the same record at the same moment; nothing of this one was "
    "recorded. Retrying is safe.",
    412: "If-Match names a version the record has moved on from (read it again, then decide); "
    "nothing was recorded.",
    413: "The body is larger than the service accepts.",
    415: "The body was not sent as application/json.",
    422: "Invalid fields or parameters, each named in `errors`; nothing was recorded.",
    503: "Not now; retry after the seconds in Retry-After: the database is unreachable, or a "
    "query ran longer than the service allows.",
}

#: Why a read may be answered 503 beyond ``WHEN[503]``.
READ_UNAVAILABLE = (
    "Not now; retry after the seconds in Retry-After: the read models have not reached the "
    "position the read needs in time (the log's last position as the read arrived, or "
    "min_position), or one of them is stalled before it; too many reads wait for a position; "
    "a query ran longer than the service allows; or the database is unreachable."
)
WRITE_UNAVAILABLE = (
    "Not recorded in time, or the database is unreachable: the write may or may not have been "
    "recorded. Retry it with the same Idempotency-Key after the seconds in Retry-After."
)

#: What a read that takes parameters can answer, beyond its own 200 and 404.
READ = (401, 422, 503)
#: What a write can answer, beyond its own 201 and 404.
WRITE = (400, 401, 403, 408, 409, 412, 413, 415, 422, 503)

ETAG = {
    "ETag": {
        "description": "The version of the aggregate, as a write's If-Match names it.",
        "schema": {"type": "string"},
    }
}
LOCATION = {
    "Location": {"description": "Where the resource written is read.", "schema": {"type": "string"}}
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}


def refusals(
    statuses: tuple[int, ...],
    *,
    not_found: str | None,
    unavailable: str,
    when: dict[int, str] | None = None,
) -> Responses:
    """The problem+json answers of ``statuses`` (and 404 when ``not_found`` says when), each
    described by ``when`` if it says, else as ``WHEN`` does."""
    answers: Responses = {}
    codes = sorted({*statuses, *((404,) if not_found is not None else ())})
    for status in codes:
        if when and status in when:
            description = when[status]
        elif status == 404:
            description = not_found or WHEN[404]
        elif status == 503:
            description = unavailable
        else:
            description = WHEN[status]
        answer: dict[str, Any] = {"description": description, "content": copy.deepcopy(PROBLEM)}
        if status == 503:
            answer["headers"] = copy.deepcopy(RETRY_AFTER)
        answers[status] = answer
    return answers


def read_answers(
    ok: str, *statuses: int, not_found: str | None = None, etag: bool = False
) -> Responses:
    """The answers of a read: 200 (``ok`` says what it holds, with an ETag if ``etag``), then
    each of ``statuses`` and 404 when ``not_found`` says when."""
    answers: Responses = {200: {"description": ok}}
    if etag:
        answers[200]["headers"] = copy.deepcopy(ETAG)
    answers.update(refusals(statuses, not_found=not_found, unavailable=READ_UNAVAILABLE))
    return answers


def write_answers(
    ok: str,
    *statuses: int,
    not_found: str | None = None,
    status: int = 201,
    when: dict[int, str] | None = None,
) -> Responses:
    """The answers of a write: ``status`` (``ok`` says what is answered; 201 with Location
    and ETag), then each of ``statuses`` and 404 when ``not_found`` says when; ``when`` says
    when a status is answered, where a write has a reason of its own."""
    answers: Responses = {status: {"description": ok}}
    if status == 201:
        answers[status]["headers"] = {**copy.deepcopy(LOCATION), **copy.deepcopy(ETAG)}
    answers.update(
        refusals(statuses, not_found=not_found, unavailable=WRITE_UNAVAILABLE, when=when)
    )
    return answers


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "The problem type, e.g. /problems/not-found; GET it to read what "
            "it means.",
        },
        "title": {"type": "string", "description": "The problem type, in a few words."},
        "status": {"type": "integer", "description": "The HTTP status, as answered."},
        "detail": {"type": "string", "description": "What was wrong with this request."},
        "errors": {
            "type": "array",
            "description": "Each field or parameter refused, and why.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {
                        "type": "string",
                        "description": "The field or parameter, e.g. evidence[0].quote.",
                    },
                    "message": {"type": "string", "description": "What is wrong with it."},
                },
            },
        },
    },
}


def document(app: FastAPI, open_paths: frozenset[str]) -> dict[str, Any]:
    """The app's OpenAPI document (built once): the Problem schema, no key asked of the open
    paths, the examples of every parameter and request body, and every response field
    described."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path in open_paths or path.startswith("/problems/"):
                # /ready looks at a key when one is sent (an admin's is shown more).
                optional = "401" in operation["responses"]
                operation["security"] = [{}, {"HTTPBearer": []}] if optional else []
            _without_fastapi_422(operation)
            _with_examples(method, path, operation, schemas)
    _drop_unused_validation_schemas(schema)
    for name in _response_schemas(schema):
        _describe_fields(name, schemas[name])
    app.openapi_schema = schema
    return schema


def _without_fastapi_422(operation: dict[str, Any]) -> None:
    """FastAPI documents a 422 of its own shape on every route with parameters; the routes
    declare theirs (problem+json) where they can answer one."""
    answer = operation["responses"].get("422")
    if answer is not None and PROBLEM_JSON not in answer.get("content", {}):
        del operation["responses"]["422"]


def _drop_unused_validation_schemas(schema: dict[str, Any]) -> None:
    schemas = schema["components"]["schemas"]
    text = repr(schema["paths"])
    for name in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{name}'" not in text:
            schemas.pop(name, None)


def _with_examples(
    method: str, path: str, operation: dict[str, Any], schemas: dict[str, Any]
) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] not in ("path", "query") or parameter["name"] in NOT_EXAMPLED:
            continue
        examples = parameter_examples(method, path, parameter["name"])
        if examples:
            parameter["examples"] = examples
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        name = body["schema"].get("$ref", "").rsplit("/", 1)[-1]
        if name in BODIES:
            body["examples"] = copy.deepcopy(BODIES[name])


def _response_schemas(schema: dict[str, Any]) -> set[str]:
    """The component schemas that responses refer to, directly or within one another."""
    schemas = schema["components"]["schemas"]
    found: set[str] = set()
    pending = [
        answer.get("content", {})
        for operations in schema["paths"].values()
        for operation in operations.values()
        for answer in operation["responses"].values()
    ]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in found:
                    found.add(name)
                    pending.append(schemas[name])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _describe_fields(name: str, component: dict[str, Any]) -> None:
    """Each property of a response schema described: by its view, else by ``FIELDS``."""
    for field, property_schema in component.get("properties", {}).items():
        if "description" in property_schema:
            continue
        description = FIELDS.get(f"{name}.{field}") or FIELDS.get(field)
        if description is not None:
            property_schema["description"] = description


# When a route answers 404, as its answers say it.
NO_COMMISSION = "No commission has this id."
COMMISSION_OR_SOURCE = "No commission has this id, or a quote's source is not registered."
NO_SESSION = "No commission has this id, or no session of it this key."
SESSION_OR_SOURCE = (
    "No commission has this id, no session of it this key, or a quote's source is not registered."
)
NO_STATISTIC = "No statistic has this id."
STATISTIC_OR_SOURCE = "No statistic has this id, or a quote's source is not registered."
NO_SOURCE = "No source has this id."
