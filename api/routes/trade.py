"""The trade position between two parties."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.dependencies import PartiesDep, ReadingDep, ReadModelsDep
from api.openapi import READ, read_answers
from api.problems import InvalidQueryError
from api.read_views import TradePosition
from api.routes._common import answer_json, ask
from domain.values import MEASURES, Measure

router = APIRouter(tags=["trade"])


@router.get(
    "/trade-position",
    response_model=TradePosition,
    summary="Latest figure per measure and value kind, with provenance; a measure's series",
    description="The latest figure standing of each measure, kind of value and perspective "
    "between two parties, each with its sources; with ?measure=, that measure's series by "
    "period and every version of it.",
    responses=read_answers("The trade position.", *READ),
)
async def get_trade_position(
    read_models: ReadModelsDep,
    moment: ReadingDep,
    parties: PartiesDep,
    measure: Annotated[
        Measure | None,
        Query(description="One measure: adds its series by period and every revision."),
    ] = None,
) -> Response:
    """The two parties are given as ``parties=AZ,RU`` or ``party=AZ&party=RU``."""
    if len(parties) != 2:
        raise InvalidQueryError("parties", "give two distinct parties, e.g. AZ,RU")
    assert measure is None or measure in MEASURES
    answer = await ask(read_models, "trade_position", parties, measure, moment.as_of)
    return answer_json(TradePosition, answer)
