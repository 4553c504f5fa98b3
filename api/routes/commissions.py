"""Commissions and their co-chairs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.dependencies import PartiesDep, ReadingDep, ReadModelsDep
from api.openapi import (
    COMMISSION_OR_SOURCE,
    NO_COMMISSION,
    READ,
    WRITE,
    read_answers,
    write_answers,
)
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


@router.get(
    "",
    response_model=CommissionPage,
    summary="Commissions, filtered by parties",
    description="Every commission, or those between the parties given, a page at a time, "
    "each with its co-chairs serving and its latest and next sessions.",
    responses=read_answers("A page of commissions.", *READ),
)
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
    "",
    status_code=201,
    response_model=CommissionWritten,
    summary="Establish a commission",
    description="Records a commission between two parties: its slug id, the parties and its "
    "names by language. Co-chairs and sessions are recorded under it afterwards.",
    responses=write_answers("The commission as recorded.", *WRITE),
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
    description="The commission as the record holds it now (or as of a moment), with counts "
    "of what was recorded at its sessions; its ETag is the If-Match of writes to it.",
    responses=read_answers("The commission.", *READ, not_found=NO_COMMISSION, etag=True),
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
    description="Every co-chair's tenure, by party (with ?on=, those serving on that date), "
    "and the co-chairs of each held session.",
    responses=read_answers("The co-chairs.", *READ, not_found=NO_COMMISSION),
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
    description="The commission's facts in the order of the dates they concern, from and "
    "to partial dates, a page at a time; each entry with its evidence.",
    responses=read_answers("A page of the timeline.", *READ, not_found=NO_COMMISSION),
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
    description="The audit trail of one commission: each event recorded of it and of its "
    "sessions, who recorded it and when, a page at a time.",
    responses=read_answers("A page of its history.", *READ, not_found=NO_COMMISSION),
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
    description="Records that a person co-chairs the commission for a party, since a date "
    "if the source gives one, with the quote that says so.",
    responses=write_answers(
        "The commission, with the tenure.", *WRITE, not_found=COMMISSION_OR_SOURCE
    ),
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
    description="Records that a co-chair serving for a party no longer does, until a date.",
    responses=write_answers(
        "The commission, the tenure ended.", *WRITE, not_found=COMMISSION_OR_SOURCE
    ),
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
