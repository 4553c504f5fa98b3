"""What the routes share: reading query parameters."""

from __future__ import annotations

from api.problems import InvalidQueryError
from domain.dates import PartialDate, PartialDateError


def partial_date(field: str, text: str | None) -> PartialDate | None:
    """A partial date given as a query parameter, or a 422 naming it."""
    if text is None:
        return None
    try:
        return PartialDate.parse(text)
    except PartialDateError as error:
        raise InvalidQueryError(field, str(error)) from None
