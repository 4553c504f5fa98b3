"""The global log: every event in record order, the audit feed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from api.dependencies import RecordsDep, WaitingDep
from api.eventlog import iter_events, read_events
from api.openapi import READ, read_answers
from api.problems import InvalidQueryError
from api.views import EventPage

router = APIRouter(tags=["log"])

NDJSON = "application/x-ndjson"


@router.get(
    "/events",
    response_model=EventPage,
    summary="The log, in order",
    description="Every event of the record in log order, after a position: a JSON page, or "
    "with Accept: application/x-ndjson the whole log after it, streamed one event a line.",
    responses=read_answers("A JSON page, or an NDJSON stream.", *READ)
    | {200: {"content": {NDJSON: {}}, "description": "A JSON page, or an NDJSON stream."}},
)
def list_events(
    records: RecordsDep,
    _: WaitingDep,
    after: Annotated[int, Query(ge=0, description="Log position to start after.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> EventPage | StreamingResponse:
    if cursor is not None:
        after = _cursor_position(cursor)
    if accept is not None and _prefers_ndjson(accept):
        # The stream is the whole log after `after`, read in batches as it is sent.
        def lines() -> Iterator[str]:
            for event in iter_events(records, after):
                yield event.model_dump_json() + "\n"

        return StreamingResponse(lines(), media_type=NDJSON)
    items = read_events(records, after, limit)
    next_after = items[-1].position if len(items) == limit else None
    return EventPage(
        items=items,
        next_after=next_after,
        next_cursor=None if next_after is None else str(next_after),
    )


def _cursor_position(cursor: str) -> int:
    if not (cursor.isascii() and cursor.isdigit()):
        raise InvalidQueryError("cursor", "is not a cursor this service gave")
    return int(cursor)


def _prefers_ndjson(accept: str) -> bool:
    """Whether the Accept header ranks NDJSON above JSON (q-values honoured)."""
    ranks: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (item.strip() for item in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[media.lower()] = max(quality, ranks.get(media.lower(), 0.0))
    ndjson = ranks.get(NDJSON, 0.0)
    json_rank = max(ranks.get("application/json", 0.0), ranks.get("*/*", 0.0) * 0.99)
    return ndjson > 0 and ndjson >= json_rank
