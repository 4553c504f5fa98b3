"""Typed dependencies of the endpoints: the application service, the principal, If-Match."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import InvalidQueryError
from api.security import ANONYMOUS, Principal
from api.settings import Settings
from api.waits import LogHead, PositionWaits
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


bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer dpr_…`")


async def authorize(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Who is asking: every route depends on it, so the API's description says how to send a
    key. The key was checked, and the request refused unless allowed, by the Guard
    (api/middleware.py) before anything else was read."""
    return principal_of(request)


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
    request: Request,
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
    consistency: Annotated[
        Literal["strong", "eventual"],
        Query(
            description="`strong` (the default): the answer includes every write acknowledged "
            "before this read arrived, so following a 201's `Location` never answers 404; the "
            "read waits until the read models reach the log's last position (and "
            "`min_position`), else 503 with Retry-After. `eventual`: answer from the read "
            "models as they are (a few milliseconds behind the log, usually), waiting only "
            "for `min_position` if given.",
        ),
    ] = "strong",
) -> Reading:
    """What a read asks about, once the read models include what it must see: by default
    every write acknowledged before it arrived (the log's last position as read after it
    arrived), and ``min_position``; the whole wait bounded by ``read_wait_seconds``."""
    if as_of is not None:
        if as_of.tzinfo is None:
            raise InvalidQueryError("as_of", "needs a time zone, e.g. 2024-08-10T00:00:00Z")
        try:
            as_of = as_of.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+14:00 is in the year 0 in UTC
            raise InvalidQueryError(
                "as_of", "is out of range: in UTC it must lie between the years 1 and 9999"
            ) from None
    position = min_position or 0
    seconds = settings.read_wait_seconds
    if consistency == "strong":
        # One bound for the whole wait: reading the log's head, then the read models' catch-up.
        deadline = time.monotonic() + seconds
        head: LogHead = request.app.state.log_head
        position = max(position, await head.position(seconds))
        seconds = max(0.0, deadline - time.monotonic())
    if position:
        waits: PositionWaits = request.app.state.waits
        await waits.wait(position, seconds)
    return Reading(as_of)


RecordsDep = Annotated[Records, Depends(get_records)]
ReadModelsDep = Annotated[ReadModels, Depends(get_read_models)]
ReadingDep = Annotated[Reading, Depends(reading)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def etag(version: int) -> str:
    return f'"{version}"'
