"""What the routes share: how writes answer, how query parameters are read."""

from __future__ import annotations

from fastapi import Response

from api.dependencies import etag
from api.problems import InvalidQueryError
from domain.dates import PartialDate, PartialDateError


def created(response: Response, location: str, version: int) -> None:
    response.headers["Location"] = location
    response.headers["ETag"] = etag(version)


def partial_date(field: str, text: str | None) -> PartialDate | None:
    """A partial date given as a query parameter, or a 422 naming it."""
    if text is None:
        return None
    try:
        return PartialDate.parse(text)
    except PartialDateError as error:
        raise InvalidQueryError(field, str(error)) from None
