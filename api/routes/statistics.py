"""Statistics: one figure as it stands, its corrections and its retraction."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from api.dependencies import ExpectedVersionDep, PrincipalDep, RecordsDep, etag
from api.routes._written import created
from api.schemas import CorrectStatistic, RetractStatistic
from api.views import StatisticView, StatisticWritten, statistic_view
from domain.application import Recorded
from domain.session import Session

router = APIRouter(prefix="/statistics", tags=["statistics"])


def _answer(sid: UUID, recorded: Recorded[Session], response: Response) -> StatisticWritten:
    session = recorded.aggregate
    created(response, f"/statistics/{sid}", session.version)
    view = statistic_view(session, session.statistics[sid])
    return StatisticWritten(
        **view.model_dump(), version=session.version, position=recorded.position
    )


@router.get("/{sid}", response_model=StatisticWritten, summary="A statistic as it stands")
def get_statistic(sid: UUID, records: RecordsDep, response: Response) -> StatisticWritten:
    session = records.session_of_statistic(sid)
    response.headers["ETag"] = etag(session.version)
    view: StatisticView = statistic_view(session, session.statistics[sid])
    return StatisticWritten(**view.model_dump(), version=session.version)


@router.post(
    "/{sid}/corrections",
    status_code=201,
    response_model=StatisticWritten,
    summary="Correct a statistic; the earlier version stays in its history",
)
def correct_statistic(
    sid: UUID,
    body: CorrectStatistic,
    records: RecordsDep,
    principal: PrincipalDep,
    expected: ExpectedVersionDep,
    response: Response,
) -> StatisticWritten:
    recorded = records.correct_statistic(
        sid,
        changes=body.changes.to_domain(),
        reason=body.reason,
        evidence=[item.to_domain() for item in body.evidence],
        recorded_by=principal.name,
        expected_version=expected,
    )
    return _answer(sid, recorded, response)


@router.post(
    "/{sid}/retraction",
    status_code=201,
    response_model=StatisticWritten,
    summary="Retract a statistic; it stays in the record, marked retracted",
)
def retract_statistic(
    sid: UUID,
    body: RetractStatistic,
    records: RecordsDep,
    principal: PrincipalDep,
    expected: ExpectedVersionDep,
    response: Response,
) -> StatisticWritten:
    recorded = records.retract_statistic(
        sid, reason=body.reason, recorded_by=principal.name, expected_version=expected
    )
    return _answer(sid, recorded, response)
