"""Statistics: one figure as it stands, its corrections and its retraction."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import APIRouter, Response

from api.dependencies import ReadingDep, ReadModelsDep
from api.openapi import (
    NO_STATISTIC,
    READ,
    STATISTIC_OR_SOURCE,
    WRITE,
    read_answers,
    write_answers,
)
from api.read_views import StatisticAnswer, StatisticHistory
from api.routes._common import answer_json, ask, version_tag
from api.schemas import CorrectStatistic, RetractStatistic
from api.views import StatisticWritten, statistic_written
from api.writing import WriterDep
from domain.application import Recorded
from domain.errors import UnknownStatisticError
from domain.ids import session_id
from domain.session import Session

router = APIRouter(prefix="/statistics", tags=["statistics"])


@router.get(
    "/{sid}",
    response_model=StatisticAnswer,
    summary="A statistic as it stands",
    description="The figure as it stands now (or as of a moment), with its sources; its ETag "
    "is its session's, the If-Match of its corrections and retraction.",
    responses=read_answers("The statistic.", *READ, not_found=NO_STATISTIC, etag=True),
)
def get_statistic(sid: UUID, read_models: ReadModelsDep, moment: ReadingDep) -> Response:
    answer = read_models.statistic(sid, moment.as_of)
    if answer is None:
        raise UnknownStatisticError.of(sid)
    stream = session_id(answer["commission"], answer["session"])
    return answer_json(StatisticAnswer, answer, version_tag(read_models, stream, moment.as_of))


@router.get(
    "/{sid}/history",
    response_model=StatisticHistory,
    summary="Every version of a statistic: reported, corrected, retracted; who, when, why",
    description="Each version of the figure in record order, the one standing marked current.",
    responses=read_answers("The statistic's versions.", *READ, not_found=NO_STATISTIC),
)
async def get_statistic_history(
    sid: UUID, read_models: ReadModelsDep, moment: ReadingDep
) -> Response:
    answer = await ask(read_models, "statistic_history", sid, moment.as_of)
    if answer is None:
        raise UnknownStatisticError.of(sid)
    return answer_json(StatisticHistory, answer)


@router.post(
    "/{sid}/corrections",
    status_code=201,
    response_model=StatisticWritten,
    summary="Correct a statistic; the earlier version stays in its history",
    description="Corrects fields of a figure, with the reason; the earlier version stays in "
    "its history.",
    responses=write_answers("The statistic, corrected.", *WRITE, not_found=STATISTIC_OR_SOURCE),
)
async def correct_statistic(
    sid: UUID, body: CorrectStatistic, writer: WriterDep
) -> StatisticWritten:
    return await writer.record(
        lambda: writer.records.correct_statistic(
            sid,
            changes=body.changes.to_domain(),
            reason=body.reason,
            evidence=[item.to_domain() for item in body.evidence],
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        ),
        _answer(sid),
    )


@router.post(
    "/{sid}/retraction",
    status_code=201,
    response_model=StatisticWritten,
    summary="Retract a statistic; it stays in the record, marked retracted",
    description="Retracts a figure, with the reason: it stays in the record, marked retracted, "
    "and no longer counts in trade positions.",
    responses=write_answers("The statistic, retracted.", *WRITE, not_found=NO_STATISTIC),
)
async def retract_statistic(
    sid: UUID, body: RetractStatistic, writer: WriterDep
) -> StatisticWritten:
    return await writer.record(
        lambda: writer.records.retract_statistic(
            sid,
            reason=body.reason,
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        ),
        _answer(sid),
    )


def _answer(sid: UUID) -> Callable[[Recorded[Session]], tuple[StatisticWritten, str]]:
    def answer(recorded: Recorded[Session]) -> tuple[StatisticWritten, str]:
        return statistic_written(recorded.aggregate, sid, recorded.position), f"/statistics/{sid}"

    return answer
