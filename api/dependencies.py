"""Typed dependencies of the endpoints: the application service, the principal, If-Match."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from api.settings import Settings
from domain.application import Records, StaleVersionError


def get_records(request: Request) -> Records:
    records: Records = request.app.state.records
    return records


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making the request; recorded as ``recorded_by`` on every event written."""

    name: str


def get_principal() -> Principal:
    return Principal("anonymous")


_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            description='The ETag of the resource as last read ("5"): the write is refused '
            "with 412 if the record has moved on since."
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match.strip())
    if match is None:
        # No current ETag can match a value of another form.
        raise StaleVersionError(-1, None)
    return int(match[1])


RecordsDep = Annotated[Records, Depends(get_records)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ExpectedVersionDep = Annotated[int | None, Depends(expected_version)]


def etag(version: int) -> str:
    return f'"{version}"'
