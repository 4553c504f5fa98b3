"""Statistics: one figure as it stands, its corrections and its retraction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.dependencies import PartiesDep, ReadingDep, ReadModelsDep
from api.openapi import (
    NO_STATISTIC,
    READ,
    STATISTIC_OR_SOURCE,
    WRITE,
    read_answers,
    write_answers,
)
from api.problems import InvalidQueryError
from api.read_views import StatisticAnswer, StatisticHistory, StatisticPage
from api.routes._common import Cursor, From, Limit, To, answer_json, ask, date_range, version_tag
from api.schemas import CorrectStatistic, RetractStatistic
from api.views import StatisticWritten, statistic_written
from api.writing import WriterDep
from domain.application import Recorded
from domain.codes import is_country
from domain.errors import UnknownStatisticError
from domain.ids import session_id
from domain.session import Session
from domain.values import EvidenceStatus, Measure
from projections.queries import StatisticFilters

router = APIRouter(prefix="/statistics", tags=["statistics"])


def _country(name: str, code: str | None) -> str | None:
    if code is not None and not is_country(code):
        raise InvalidQueryError(
            name,
            f"{code!r} is not an ISO 3166-1 alpha-2 country code (two upper-case letters, e.g. AZ)",
        )
    return code


@router.get(
    "",
    response_model=StatisticPage,
    summary="Statistics as they stand, filtered, in the order they were reported",
    description="Every statistic, or those of a commission, session, measure, perspective, "
    "party or period range, standing or retracted, a page at a time, as they stand now (or "
    "stood at a moment), each with its evidence.",
    responses=read_answers("A page of statistics.", *READ),
)
async def list_statistics(
    read_models: ReadModelsDep,
    moment: ReadingDep,
    parties: PartiesDep,
    commission: Annotated[str | None, Query(max_length=64, description="A commission id.")] = None,
    session: Annotated[
        str | None,
        Query(max_length=64, description="A session's key (22); needs `commission`."),
    ] = None,
    measure: Annotated[Measure | None, Query(description="One measure (GET /measures).")] = None,
    reporter: Annotated[
        str | None,
        Query(max_length=2, description="The perspective's reporter: AZ for AZ's exports to RU."),
    ] = None,
    partner: Annotated[
        str | None,
        Query(max_length=2, description="The perspective's partner: RU for AZ's exports to RU."),
    ] = None,
    stated_by: Annotated[
        str | None, Query(max_length=2, description="The party whose side stated the figure.")
    ] = None,
    from_: From = None,
    to: To = None,
    retracted: Annotated[
        bool | None,
        Query(
            description="true: retracted ones only; false: standing ones only; left out: both "
            "(each item says which it is)."
        ),
    ] = None,
    evidence_status: Annotated[
        EvidenceStatus | None,
        Query(
            description="Those whose weakest evidence has this status: verified (every quote "
            "found in its source's text), unverified (some source without text), mismatch "
            "(some quote not in its source's text)."
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """``party``/``parties`` choose the commission by its parties; ``reporter`` and
    ``partner`` the figure's own perspective; ``from``/``to`` the period it concerns (the
    session's date for a figure that gives none), overlapping the range."""
    if session is not None and commission is None:
        raise InvalidQueryError(
            "session", "a session key names a session of one commission: give commission too"
        )
    start, end = date_range(from_, to)
    filters = StatisticFilters(
        commission=commission,
        session=session,
        measure=measure,
        reporter=_country("reporter", reporter),
        partner=_country("partner", partner),
        stated_by=_country("stated_by", stated_by),
        parties=parties,
        start=start,
        end=end,
        retracted=retracted,
        evidence_status=evidence_status,
    )
    page = await ask(read_models, "statistics", filters, moment.as_of, cursor, limit)
    return answer_json(StatisticPage, page)


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
