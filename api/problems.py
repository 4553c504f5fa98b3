"""Errors as RFC 9457 problem details, and the one place domain errors become HTTP statuses."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from eventsourcing import persistence
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.commits import WriteTimeoutError
from api.openapi import read_answers
from api.security import NotAllowedError, NotAuthenticatedError
from api.waits import TooManyWaitsError
from domain.application import ConflictError, StaleVersionError
from domain.errors import DomainError, InvalidCommandError, NotFoundError, field_key
from projections.queries import (
    BadCursorError,
    BeyondTheLogError,
    ReadModelsNotReadyError,
    ReadModelStalledError,
)
from projections.runner import CannotApplyError

PROBLEM_JSON = "application/problem+json"
# Relative URI references (RFC 9457 §3.1.1); each is described at GET /problems/{kind}.
PROBLEM_TYPES = "/problems/"

logger = logging.getLogger("diprec.api")

#: Every problem type the service answers with, and what it means for the client.
PROBLEM_KINDS: dict[str, str] = {
    "invalid-request": "The request's shape is wrong: a missing or unknown field or parameter "
    "(a query parameter the route does not take is refused, not ignored), a value of the "
    "wrong type, or a range whose start is after its end. `errors` names each. Nothing was "
    "recorded.",
    "invalid-fact": "The request breaks a rule of the record (codes, dates, numbers, quotes, "
    "session status). `errors` names each field. Nothing was recorded.",
    "malformed-json": "The body is not JSON. Nothing was recorded.",
    "not-found": "The commission, session, source or statistic named does not exist.",
    "stale-version": "If-Match named a version the record has moved on from: read the "
    "resource again, then decide. Nothing was recorded.",
    "conflict": "Another write changed the same record at the same moment; nothing of this "
    "one was recorded. Retrying is safe.",
    "method-not-allowed": "The record is append-only: there is no PUT, PATCH or DELETE.",
    "unauthorized": "No valid API key was sent: send `Authorization: Bearer <key>`.",
    "forbidden": "The API key's role does not allow this: readers may GET, recorders may also "
    "record facts, admins may do everything.",
    "not-ready": "The read models did not catch up in time with the position the read needs: "
    "the log's last position as the read arrived (the default, consistency=strong), or "
    "min_position if later. Retry after the seconds in Retry-After, or read with "
    "consistency=eventual for an answer that may not include the latest writes.",
    "read-model-stalled": "A read model the answer needs is stalled before the position the "
    "read needs (the log's last position as the read arrived, or min_position): it cannot "
    "apply an event of the log, and stays where it is until an operator fixes it. Other read "
    "models, and writes, go on; GET /ready shows the stall. A read with consistency=eventual "
    "and no min_position is answered as of where the model stopped.",
    "cannot-apply": "A read model cannot apply an event of the log (a value its tables cannot "
    "hold, or a fault of its code), so a rebuild of it would fail at that event. Deploy a fix "
    "(an upcaster for the event's class, or the model's code), then rebuild.",
    "invalid-cursor": "The cursor is not one this service gave for this list: forged, "
    "given by another route, or given for the same route with other filters. Ask with the "
    "filters it was given for, or start again without it.",
    "request-too-large": "The request body is larger than the service accepts.",
    "request-timeout": "The request's body was not all sent within the service's request "
    "timeout; the connection is closed. Nothing was recorded.",
    "unsupported-media-type": "Send request bodies as application/json.",
    "internal": "The service failed; nothing half-done was recorded.",
    "too-many-waiting": "More reads are waiting for the read models to catch up than the "
    "service lets wait at once; retry after the seconds in Retry-After.",
    "query-timeout": "A read's queries ran longer than the service allows "
    "(DIPREC_QUERY_TIMEOUT_SECONDS); retry, or ask for less.",
    "write-timeout": "The write was not recorded within the service's write timeout (the "
    "database slow, or its event store locked by another process). It may or may not have "
    "been recorded: retry it with the same Idempotency-Key, which records it once, after the "
    "seconds in Retry-After.",
    "database-unavailable": "The database could not be reached (restarting, say). A write may "
    "or may not have been recorded: retry it with the same Idempotency-Key, which records it "
    "once, after the seconds in Retry-After.",
}

router = APIRouter(tags=["health"])


@router.get(
    "/problems/{kind}",
    summary="What a problem type means",
    description="The meaning of a problem type that refusals name in their `type`; open to all.",
    responses=read_answers(
        "The problem type and its meaning.", 422, not_found="No such problem type."
    ),
    openapi_extra={"security": []},
)
def describe_problem(kind: str) -> dict[str, str]:
    if kind not in PROBLEM_KINDS:
        raise StarletteHTTPException(404, f"no problem type {kind!r}")
    return {"type": PROBLEM_TYPES + kind, "description": PROBLEM_KINDS[kind]}


class InvalidQueryError(Exception):
    """Query parameters that cannot be answered; each problem names its parameter."""

    def __init__(self, field: str, message: str, *more: tuple[str, str]) -> None:
        self.field = field
        self.message = message
        self.problems = [(field, message), *more]
        super().__init__("; ".join(f"{name}: {text}" for name, text in self.problems))


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPES + kind,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_name(location: tuple[int | str, ...]) -> str:
    """``("body", "evidence", 0, "quote")`` → ``evidence[0].quote``; a long key (of a map, or
    a field the body should not have) is named in part."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            key = field_key(str(part))
            name += f".{key}" if name else key
    return name or "body"


#: A refusal lists at most this many problems, so that a body of a million bad items is not
#: answered with a million errors; its ``detail`` says how many there were.
MAX_LISTED_PROBLEMS = 100


def _listed(detail: str, errors: list[dict[str, str]], count: int) -> str:
    """The detail of a refusal, saying so when it lists only the first of its problems."""
    if count > len(errors):
        return f"{detail} The first {len(errors)} of its {count} problems are listed."
    return detail


def _request_validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    raw = error.errors()
    if any(item.get("type") == "json_invalid" for item in raw):
        return problem(400, "malformed-json", "Malformed JSON", "The request body is not JSON.")
    errors = [
        {"field": field_name(tuple(item.get("loc", ()))), "message": str(item.get("msg", ""))}
        for item in raw[:MAX_LISTED_PROBLEMS]
    ]
    detail = (
        "The request has invalid fields; nothing was recorded."
        if request.method == "POST"
        else "The request has invalid parameters."
    )
    detail = _listed(detail, errors, len(raw))
    return problem(422, "invalid-request", "Invalid request", detail, errors=errors)


def _domain_error(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, InvalidCommandError):
        listed = [
            {"field": p.field, "message": p.message} for p in error.problems[:MAX_LISTED_PROBLEMS]
        ]
        detail = "One or more fields break the rules of the record; nothing was recorded."
        return problem(
            422,
            "invalid-fact",
            "The record refuses this",
            _listed(detail, listed, len(error.problems)),
            errors=listed,
        )
    if isinstance(error, NotFoundError):
        errors = [{"field": error.field, "message": str(error)}] if error.field else None
        return problem(404, "not-found", "Not found", str(error), errors=errors)
    if isinstance(error, StaleVersionError):
        return problem(
            412,
            "stale-version",
            "Precondition failed",
            f"If-Match does not match the current version: {error}; nothing was recorded.",
        )
    if isinstance(error, ConflictError):
        return problem(409, "conflict", "Conflicting write", str(error))
    return problem(400, "refused", "Refused", str(error))


def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    titles = {
        404: "Not found",
        405: "Method not allowed",
        406: "Not acceptable",
        413: "Request too large",
        415: "Unsupported media type",
    }
    if error.status_code == 400:
        # Starlette's answer to a body it cannot decode (not UTF-8, say).
        return problem(400, "malformed-json", "Malformed JSON", "The request body is not JSON.")
    kind = titles.get(error.status_code, "Error").lower().replace(" ", "-")
    return problem(
        error.status_code,
        kind,
        titles.get(error.status_code, "Error"),
        str(error.detail),
        headers=dict(error.headers) if error.headers else None,
    )


def _invalid_query(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, InvalidQueryError)
    return problem(
        422,
        "invalid-request",
        "Invalid request",
        "The request has invalid parameters.",
        errors=[
            {"field": field, "message": message}
            for field, message in error.problems[:MAX_LISTED_PROBLEMS]
        ],
    )


def authentication_problem(error: NotAuthenticatedError | NotAllowedError) -> JSONResponse:
    """401 for a request without a valid key, 403 for a key whose role is too low."""
    if isinstance(error, NotAllowedError):
        return problem(403, "forbidden", "Forbidden", str(error))
    return problem(
        401, "unauthorized", "Unauthorized", str(error), headers={"WWW-Authenticate": "Bearer"}
    )


def _not_authenticated(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NotAuthenticatedError | NotAllowedError)
    return authentication_problem(error)


def _not_ready(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ReadModelsNotReadyError)
    return problem(
        503,
        "not-ready",
        "Read models not ready",
        f"{error}; retry shortly.",
        headers={"Retry-After": "1"},
    )


def _stalled(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ReadModelStalledError)
    # Not soon: it takes an operator's fix.
    return problem(
        503, "read-model-stalled", "Read model stalled", f"{error}.", headers={"Retry-After": "60"}
    )


def _cannot_apply(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, CannotApplyError)
    return problem(
        409,
        "cannot-apply",
        "Read model cannot apply an event",
        f"{error}. Nothing was started; deploy a fix first (see /problems/cannot-apply).",
    )


def _beyond_the_log(request: Request, error: Exception) -> JSONResponse:
    return problem(
        422,
        "invalid-request",
        "Invalid request",
        "The request has invalid parameters.",
        errors=[{"field": "min_position", "message": str(error)}],
    )


def _bad_cursor(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BadCursorError)
    return problem(
        422,
        "invalid-cursor",
        "Invalid cursor",
        "The cursor is not one this service gave for this list.",
        errors=[{"field": "cursor", "message": error.reason}],
    )


# Failures to reach the database: answered 503, whether a route or the Guard met them.
UNAVAILABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    PoolTimeout,
    persistence.OperationalError,
    persistence.InterfaceError,
)


def unavailable_problem(method: str, path: str, error: Exception) -> JSONResponse:
    logger.warning("database unavailable on %s %s: %s", method, path, type(error).__name__)
    return problem(
        503,
        "database-unavailable",
        "Database unavailable",
        "The database could not be reached. If this was a write, it may or may not have been "
        "recorded: retry it with the same Idempotency-Key, which records it once.",
        headers={"Retry-After": "1"},
    )


def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    return unavailable_problem(request.method, request.url.path, error)


def _query_timeout(request: Request, error: Exception) -> JSONResponse:
    logger.warning("a query took too long on %s %s", request.method, request.url.path)
    return problem(
        503,
        "query-timeout",
        "Query timed out",
        "The read took longer than the service allows; retry, or ask for less (a narrower "
        "range, a smaller limit).",
        headers={"Retry-After": "2"},
    )


def _too_many_waits(request: Request, error: Exception) -> JSONResponse:
    return problem(
        503,
        "too-many-waiting",
        "Too many waiting reads",
        f"{error}.",
        headers={"Retry-After": "1"},
    )


def _write_timeout(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, WriteTimeoutError)
    logger.warning("write not recorded in time on %s %s", request.method, request.url.path)
    return problem(
        503,
        "write-timeout",
        "Write timed out",
        f"The write was not recorded within {error.seconds:g} s. It may or may not have been "
        "recorded: retry it with the same Idempotency-Key, which records it once.",
        headers={"Retry-After": "2"},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ReadModelsNotReadyError, _not_ready)
    app.add_exception_handler(ReadModelStalledError, _stalled)
    app.add_exception_handler(CannotApplyError, _cannot_apply)
    app.add_exception_handler(BadCursorError, _bad_cursor)
    app.add_exception_handler(BeyondTheLogError, _beyond_the_log)
    app.add_exception_handler(InvalidQueryError, _invalid_query)
    app.add_exception_handler(NotAuthenticatedError, _not_authenticated)
    app.add_exception_handler(NotAllowedError, _not_authenticated)
    app.add_exception_handler(WriteTimeoutError, _write_timeout)
    app.add_exception_handler(TooManyWaitsError, _too_many_waits)
    for unavailable in UNAVAILABLE:
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(psycopg.errors.QueryCanceled, _query_timeout)
    # Any other failure is answered 500 and logged once by the Guard (api/middleware.py).
    app.include_router(router)
