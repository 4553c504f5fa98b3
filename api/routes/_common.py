"""What the routes share: reading query parameters, tagging answers with an ETag."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import Response

from api.dependencies import etag
from api.problems import InvalidQueryError
from domain.dates import PartialDate, PartialDateError
from projections.queries import ReadModels


def partial_date(field: str, text: str | None) -> PartialDate | None:
    """A partial date given as a query parameter, or a 422 naming it."""
    if text is None:
        return None
    try:
        return PartialDate.parse(text)
    except PartialDateError as error:
        raise InvalidQueryError(field, str(error)) from None


def tag_with_version(
    response: Response, read_models: ReadModels, stream: UUID, as_of: datetime | None
) -> None:
    """Sends the aggregate's version, as of the read, as the ETag a write's If-Match names."""
    version = read_models.stream_version(stream, as_of)
    if version is not None:
        response.headers["ETag"] = etag(version)
