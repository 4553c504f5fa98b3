"""What the routes share: reading query parameters, writing answers, tagging them with an ETag."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

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


def date_range(
    start_text: str | None, end_text: str | None
) -> tuple[PartialDate | None, PartialDate | None]:
    """The ``from`` and ``to`` of a read, each a partial date; ``from`` may not begin after
    ``to`` has ended (``from=2024&to=2024-03`` asks for the overlap, which is not empty)."""
    start, end = partial_date("from", start_text), partial_date("to", end_text)
    if start is not None and end is not None and start.first_day > end.last_day:
        raise InvalidQueryError("from", f"{start} is later than to ({end})")
    return start, end


Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page.")]
From = Annotated[
    str | None,
    Query(
        alias="from", description="A partial date (2024, 2024-Q1, 2024-05, 2024-05-17): from then."
    ),
]
To = Annotated[str | None, Query(description="A partial date: until then (its last day).")]


class Rendered:
    """Answers already written as JSON, by the answer the read models gave.

    The read models give the same answer object for a repeated question until the record
    moves (``projections.queries.Answers``), so its JSON is validated against the view and
    written once, not once per request. Entries hold their answer, so an entry's identity
    check cannot be fooled by a recycled ``id``.
    """

    def __init__(self, size: int = 512) -> None:
        self._bodies: OrderedDict[int, tuple[object, type[BaseModel], bytes]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def body(self, view: type[BaseModel], answer: object) -> bytes:
        with self._lock:
            entry = self._bodies.get(id(answer))
            if entry is not None and entry[0] is answer and entry[1] is view:
                self._bodies.move_to_end(id(answer))
                return entry[2]
        body = view.model_validate(answer, from_attributes=True).model_dump_json(by_alias=True)
        encoded = body.encode()
        with self._lock:
            self._bodies[id(answer)] = (answer, view, encoded)
            if len(self._bodies) > self._size:
                self._bodies.popitem(last=False)
        return encoded


RENDERED = Rendered()


async def ask(read_models: ReadModels, query: str, *args: Any) -> Any:
    """The answer of a cached read model query (``query`` names it): a remembered answer
    straight from the event loop, with no database and no thread; any other from the thread
    pool, where the query may wait on the database."""
    remembered = read_models.recall(query, *args)
    if remembered is not None:
        return remembered
    return await run_in_threadpool(getattr(read_models, query), *args)


def answer_json(
    view: type[BaseModel], answer: object, headers: dict[str, str] | None = None
) -> Response:
    """The answer as ``view`` writes it: the route's ``response_model`` documents the same."""
    return Response(RENDERED.body(view, answer), media_type="application/json", headers=headers)


def version_tag(read_models: ReadModels, stream: UUID, as_of: datetime | None) -> dict[str, str]:
    """The aggregate's version, as of the read, as the ETag a write's If-Match names."""
    version = read_models.stream_version(stream, as_of)
    return {} if version is None else {"ETag": etag(version)}
