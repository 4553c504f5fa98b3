"""Typed dependencies of the endpoints: the application service, the principal, If-Match."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, Header, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import InvalidQueryError
from api.security import ANONYMOUS, Principal
from api.settings import Settings
from api.waits import LogHead, PositionWaits
from domain.application import Records, StaleVersionError
from domain.codes import is_country
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


_RFC3339_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
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


# The query parameters each route declares, found once from its dependant: by the route's
# identity (routes compare by their fields, and are not hashable), the route kept with them
# so that its ``id`` is not another's.
_DECLARED: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def declared_parameters(route: APIRoute) -> frozenset[str]:
    """The names of the query parameters a route takes: its own, and those of every
    dependency it has (the app's included), as a client spells them (aliases)."""
    known = _DECLARED.get(id(route))
    if known is not None and known[0] is route:
        return known[1]
    declared = frozenset(_query_parameters(route.dependant))
    _DECLARED[id(route)] = (route, declared)
    return declared


def _query_parameters(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_parameters(dependency)
    return names


async def refuse_unknown_parameters(request: Request) -> None:
    """Refuses a query parameter the route does not take, naming it: a misspelt filter
    (``?measures=``, ``?form=``) would otherwise be ignored, and the answer look like one to
    the question the client meant."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    declared = declared_parameters(route)
    unknown = sorted({name for name in request.query_params if name not in declared})
    if unknown:
        takes = ", ".join(sorted(declared)) or "none"
        problems = [
            (name, f"is not a parameter of this route (it takes: {takes})") for name in unknown
        ]
        raise InvalidQueryError(*problems[0], *problems[1:])


#: A commission has two parties: a filter by more cannot be honoured.
MOST_PARTIES = 2


async def party_filter(
    party: Annotated[
        list[str] | None,
        Query(
            description="ISO 3166-1 alpha-2 code of a party (upper case: AZ); repeat it for "
            "both parties, in any order. Same as `parties`.",
        ),
    ] = None,
    parties: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Party codes separated by commas, in any order: AZ,RU. Same as "
            "repeating `party`.",
        ),
    ] = None,
) -> tuple[str, ...]:
    """The parties a read is filtered by, spelt either way (``parties=AZ,RU`` or
    ``party=AZ&party=RU``, or both at once): distinct, in the order given; each code
    upper-case ISO 3166-1 alpha-2, as the record writes them; at most two."""
    given: list[tuple[str, str]] = [("party", code) for code in party or []]
    if parties is not None:
        given.extend(("parties", code.strip()) for code in parties.split(","))
    codes: list[str] = []
    for name, code in given:
        if not is_country(code):
            raise InvalidQueryError(
                name,
                f"{code!r} is not an ISO 3166-1 alpha-2 country code (two upper-case letters, "
                "e.g. AZ)",
            )
        if code not in codes:
            codes.append(code)
    if len(codes) > MOST_PARTIES:
        raise InvalidQueryError(
            given[-1][0], f"a commission has two parties; {len(codes)} were given"
        )
    return tuple(codes)


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
        if not _RFC3339_DATE_TIME.match(request.query_params.get("as_of", "")):
            # A number would otherwise be read as seconds since 1970: as_of=2024 is 00:33:44.
            raise InvalidQueryError(
                "as_of", "must be an RFC 3339 timestamp, e.g. 2024-08-10T00:00:00Z"
            )
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


async def waiting(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    min_position: Annotated[
        int | None,
        Query(
            ge=0,
            description="Wait until the read models include this log position (a write's "
            "`position`); 503 with Retry-After if they do not in time.",
        ),
    ] = None,
) -> None:
    """A read that is always current (from the event store) still takes ``min_position``,
    as every read does: a client reading its own writes passes it everywhere."""
    if min_position:
        waits: PositionWaits = request.app.state.waits
        await waits.wait(min_position, settings.read_wait_seconds)


RecordsDep = Annotated[Records, Depends(get_records)]
ReadModelsDep = Annotated[ReadModels, Depends(get_read_models)]
ReadingDep = Annotated[Reading, Depends(reading)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PartiesDep = Annotated[tuple[str, ...], Depends(party_filter)]
WaitingDep = Annotated[None, Depends(waiting)]


def etag(version: int) -> str:
    return f'"{version}"'
