"""Commissions and their co-chairs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.dependencies import PartiesDep, ReadingDep, ReadModelsDep
from api.read_views import (
    CoChairsView,
    CommissionPage,
    CommissionView,
    HistoryPage,
    TimelinePage,
)
from api.routes._common import (
    Cursor,
    From,
    Limit,
    To,
    answer_json,
    ask,
    date_range,
    partial_date,
    version_tag,
)
from api.schemas import AppointCoChair, EndCoChairTenure, EstablishCommission
from api.views import CommissionWritten, commission_view
from api.writing import WriterDep
from domain.application import Recorded
from domain.commission import Commission
from domain.errors import UnknownCommissionError
from domain.ids import commission_id

router = APIRouter(prefix="/commissions", tags=["commissions"])


@router.get("", response_model=CommissionPage, summary="Commissions, filtered by parties")
async def list_commissions(
    read_models: ReadModelsDep,
    moment: ReadingDep,
    parties: PartiesDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    page = await ask(read_models, "commissions", parties, moment.as_of, cursor, limit)
    return answer_json(CommissionPage, page)


@router.post(
    "", status_code=201, response_model=CommissionWritten, summary="Establish a commission"
)
async def establish_commission(body: EstablishCommission, writer: WriterDep) -> CommissionWritten:
    return await writer.record(
        lambda: writer.records.establish_commission(
            **body.model_dump(), recorded_by=writer.recorded_by
        ),
        lambda recorded: (
            commission_view(recorded.aggregate, recorded.position),
            f"/commissions/{recorded.aggregate.slug}",
        ),
    )


@router.get(
    "/{cid}",
    response_model=CommissionView,
    summary="A commission: names, parties, co-chairs, counts, latest session",
)
def get_commission(cid: str, read_models: ReadModelsDep, moment: ReadingDep) -> Response:
    answer = read_models.commission(cid, moment.as_of)
    if answer is None:
        raise UnknownCommissionError.of(cid)
    return answer_json(
        CommissionView, answer, version_tag(read_models, commission_id(cid), moment.as_of)
    )


@router.get(
    "/{cid}/co-chairs",
    response_model=CoChairsView,
    summary="Co-chair tenures per party, and who co-chaired each session",
)
async def get_co_chairs(
    cid: str,
    read_models: ReadModelsDep,
    moment: ReadingDep,
    on: Annotated[str | None, Query(description="A partial date: only those serving then.")] = None,
) -> Response:
    answer = await ask(read_models, "co_chairs", cid, partial_date("on", on), moment.as_of)
    if answer is None:
        raise UnknownCommissionError.of(cid)
    return answer_json(CoChairsView, answer)


@router.get(
    "/{cid}/timeline",
    response_model=TimelinePage,
    summary="Sessions, protocols, declarations and statistics, by the date they concern",
)
async def get_timeline(
    cid: str,
    read_models: ReadModelsDep,
    moment: ReadingDep,
    from_: From = None,
    to: To = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    start, end = date_range(from_, to)
    page = await ask(read_models, "timeline", cid, start, end, moment.as_of, cursor, limit)
    if page is None:
        raise UnknownCommissionError.of(cid)
    return answer_json(TimelinePage, page)


@router.get(
    "/{cid}/history",
    response_model=HistoryPage,
    summary="Every event of the commission and its sessions, in record order",
)
async def get_commission_history(
    cid: str,
    read_models: ReadModelsDep,
    moment: ReadingDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    page = await ask(read_models, "commission_history", cid, moment.as_of, cursor, limit)
    if page is None:
        raise UnknownCommissionError.of(cid)
    return answer_json(HistoryPage, page)


@router.post(
    "/{cid}/co-chairs",
    status_code=201,
    response_model=CommissionWritten,
    summary="Record a co-chair's appointment",
)
async def appoint_co_chair(cid: str, body: AppointCoChair, writer: WriterDep) -> CommissionWritten:
    return await writer.record(
        lambda: writer.records.appoint_co_chair(
            cid,
            party=body.party,
            name=body.name,
            title=body.title,
            since=body.since,
            evidence=body.evidence_items(),
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        ),
        _co_chairs_answer,
    )


@router.post(
    "/{cid}/co-chairs/end",
    status_code=201,
    response_model=CommissionWritten,
    summary="Record the end of a co-chair's tenure",
)
async def end_co_chair_tenure(
    cid: str, body: EndCoChairTenure, writer: WriterDep
) -> CommissionWritten:
    return await writer.record(
        lambda: writer.records.end_co_chair_tenure(
            cid,
            party=body.party,
            name=body.name,
            until=body.until,
            evidence=body.evidence_items(),
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        ),
        _co_chairs_answer,
    )


def _co_chairs_answer(recorded: Recorded[Commission]) -> tuple[CommissionWritten, str]:
    commission = recorded.aggregate
    return (
        commission_view(commission, recorded.position),
        f"/commissions/{commission.slug}/co-chairs",
    )
