"""Typed dependencies of the endpoints: the application service, the principal, If-Match."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import InvalidQueryError
from api.security import ANONYMOUS, ApiKeys, NotAllowedError, NotAuthenticatedError, Principal
from api.settings import Settings
from domain.application import Records, StaleVersionError
from projections.queries import ReadModels


# Dependencies that only read app state are `async def`: a sync one would cost a hop to the
# thread pool on every request.
async def get_records(request: Request) -> Records:
    records: Records = request.app.state.records
    return records


async def get_read_models(request: Request) -> ReadModels:
    read_models: ReadModels = request.app.state.read_models
    return read_models


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Paths anyone may read: liveness, readiness, the API's own description.
OPEN_PATHS = frozenset(
    {"/health", "/ready", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
)
bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer dpr_…`")


def needed_role(method: str, path: str) -> str:
    if path.startswith("/admin"):
        return "admin"
    return "reader" if method in ("GET", "HEAD", "OPTIONS") else "recorder"


async def authorize(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Who is asking, refused with 401 or 403 unless allowed; every route depends on it.

    A key the service remembers is checked in the event loop; any other is looked up in the
    database from the thread pool."""
    path = request.url.path
    if path in OPEN_PATHS or path.startswith("/problems/"):
        return ANONYMOUS
    settings: Settings = request.app.state.settings
    role = needed_role(request.method, path)
    if credentials is None:
        if role == "reader" and settings.anonymous_reads:
            return ANONYMOUS
        msg = "send an API key: Authorization: Bearer <key>"
        raise NotAuthenticatedError(msg)
    keys: ApiKeys = request.app.state.api_keys
    key = credentials.credentials.strip()
    principal = keys.remembered(key) or await run_in_threadpool(keys.authenticate, key)
    if principal is None:
        msg = "the API key is not valid: malformed, unknown or revoked"
        raise NotAuthenticatedError(msg)
    if not principal.may(role):
        msg = f"a {principal.role} key cannot do this; it needs the {role} role"
        raise NotAllowedError(msg)
    request.state.principal = principal
    return principal


def principal_of(request: Request) -> Principal:
    """Who ``authorize`` found the request is from."""
    principal: Principal = getattr(request.state, "principal", ANONYMOUS)
    return principal


_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


IfMatch = Annotated[
    str | None,
    Header(
        description='The ETag of the resource as last read ("5"): the write is refused '
        "with 412 if the record has moved on since."
    ),
]


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header expects, or None for any."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match.strip())
    if match is None:
        # No current ETag can match a value of another form.
        raise StaleVersionError(-1, None)
    return int(match[1])


@dataclass(frozen=True, slots=True)
class Reading:
    """The moment of record time a read asks about: now (``as_of`` None) or earlier."""

    as_of: datetime | None


async def reading(
    read_models: Annotated[ReadModels, Depends(get_read_models)],
    settings: Annotated[Settings, Depends(get_settings)],
    as_of: Annotated[
        datetime | None,
        Query(
            description="RFC 3339 timestamp: answer as the record stood then, "
            "later events unseen (e.g. 2024-08-10T00:00:00Z)."
        ),
    ] = None,
    min_position: Annotated[
        int | None,
        Query(
            ge=0,
            description="Wait until the read models include this log position (a write's "
            "`position`); 503 with Retry-After if they do not in time.",
        ),
    ] = None,
) -> Reading:
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidQueryError("as_of", "needs a time zone, e.g. 2024-08-10T00:00:00Z")
    if min_position:
        await run_in_threadpool(read_models.wait_for, min_position, settings.read_wait_seconds)
    return Reading(as_of)


RecordsDep = Annotated[Records, Depends(get_records)]
ReadModelsDep = Annotated[ReadModels, Depends(get_read_models)]
ReadingDep = Annotated[Reading, Depends(reading)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def etag(version: int) -> str:
    return f'"{version}"'
