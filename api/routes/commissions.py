"""Commissions and their co-chairs."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.dependencies import ExpectedVersionDep, PrincipalDep, RecordsDep, etag
from api.routes._written import created
from api.schemas import AppointCoChair, EndCoChairTenure, EstablishCommission
from api.views import CommissionView, commission_view

router = APIRouter(prefix="/commissions", tags=["commissions"])


@router.post("", status_code=201, response_model=CommissionView, summary="Establish a commission")
def establish_commission(
    body: EstablishCommission, records: RecordsDep, principal: PrincipalDep, response: Response
) -> CommissionView:
    recorded = records.establish_commission(**body.model_dump(), recorded_by=principal.name)
    commission = recorded.aggregate
    created(response, f"/commissions/{commission.slug}", commission.version)
    return commission_view(commission, recorded.position)


@router.get("/{cid}", response_model=CommissionView, summary="A commission and its co-chairs")
def get_commission(cid: str, records: RecordsDep, response: Response) -> CommissionView:
    commission = records.commission(cid)
    response.headers["ETag"] = etag(commission.version)
    return commission_view(commission)


@router.post(
    "/{cid}/co-chairs",
    status_code=201,
    response_model=CommissionView,
    summary="Record a co-chair's appointment",
)
def appoint_co_chair(
    cid: str,
    body: AppointCoChair,
    records: RecordsDep,
    principal: PrincipalDep,
    expected: ExpectedVersionDep,
    response: Response,
) -> CommissionView:
    recorded = records.appoint_co_chair(
        cid,
        party=body.party,
        name=body.name,
        title=body.title,
        since=body.since,
        evidence=body.evidence_items(),
        recorded_by=principal.name,
        expected_version=expected,
    )
    created(response, f"/commissions/{cid}/co-chairs", recorded.version)
    return commission_view(recorded.aggregate, recorded.position)


@router.post(
    "/{cid}/co-chairs/end",
    status_code=201,
    response_model=CommissionView,
    summary="Record the end of a co-chair's tenure",
)
def end_co_chair_tenure(
    cid: str,
    body: EndCoChairTenure,
    records: RecordsDep,
    principal: PrincipalDep,
    expected: ExpectedVersionDep,
    response: Response,
) -> CommissionView:
    recorded = records.end_co_chair_tenure(
        cid,
        party=body.party,
        name=body.name,
        until=body.until,
        evidence=body.evidence_items(),
        recorded_by=principal.name,
        expected_version=expected,
    )
    created(response, f"/commissions/{cid}/co-chairs", recorded.version)
    return commission_view(recorded.aggregate, recorded.position)
