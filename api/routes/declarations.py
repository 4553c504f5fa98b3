"""Instruments: declarations cited and protocols signed, with the sessions that did so."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.dependencies import ReadingDep, ReadModelsDep
from api.openapi import READ, read_answers
from api.read_views import InstrumentPage
from api.routes._common import answer_json, ask

router = APIRouter(tags=["instruments"])


@router.get(
    "/declarations",
    response_model=InstrumentPage,
    summary="Declarations and protocols, each with the sessions that cited or signed it",
    description="Every declaration cited and protocol signed, by title (?title= matches part "
    "of it), each with the sessions that cited or signed it, a page at a time.",
    responses=read_answers("A page of instruments.", *READ),
)
async def list_declarations(
    read_models: ReadModelsDep,
    moment: ReadingDep,
    title: Annotated[
        str | None, Query(max_length=200, description="Part of the title, any case.")
    ] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    page = await ask(read_models, "declarations", title, moment.as_of, cursor, limit)
    return answer_json(InstrumentPage, page)
