"""Sessions of a commission, and the facts recorded at them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.dependencies import ReadingDep, ReadModelsDep
from api.openapi import (
    COMMISSION_OR_SOURCE,
    NO_COMMISSION,
    NO_SESSION,
    READ,
    SESSION_OR_SOURCE,
    WRITE,
    read_answers,
    write_answers,
)
from api.read_views import SessionPage, SessionView
from api.routes._common import answer_json, ask, version_tag
from api.schemas import (
    CancelSession,
    ConveneSession,
    CorrectSession,
    PostponeSession,
    RecordSession,
    ReferenceDeclaration,
    ReportStatistic,
    SignProtocol,
)
from api.views import SessionWritten, StatisticWritten, session_view, statistic_written
from api.writing import WriterDep
from domain.application import Recorded
from domain.errors import (
    FieldProblem,
    InvalidCommandError,
    UnknownCommissionError,
    UnknownSessionError,
)
from domain.ids import session_id
from domain.session import Session

router = APIRouter(prefix="/commissions/{cid}/sessions", tags=["sessions"])


def _answer(recorded: Recorded[Session]) -> tuple[SessionWritten, str]:
    session = recorded.aggregate
    return (
        session_view(session, recorded.position),
        f"/commissions/{session.commission}/sessions/{session.key}",
    )


def _refuse(problems: list[FieldProblem]) -> None:
    if problems:
        raise InvalidCommandError(problems)


@router.post(
    "",
    status_code=201,
    response_model=SessionWritten,
    summary="Record a session, held (convened) or planned (scheduled)",
    description="A held session with its dates, place, co-chairs, topics and summary, or a "
    "planned one with the date planned; the key is its ordinal when it has one.",
    responses=write_answers("The session as recorded.", *WRITE, not_found=COMMISSION_OR_SOURCE),
)
async def record_session(cid: str, body: RecordSession, writer: WriterDep) -> SessionWritten:
    records = writer.records
    if body.status == "scheduled":
        _refuse(
            [
                FieldProblem(name, "describes a held session; a scheduled one has none")
                for name in body.scheduled_only_fields()
            ]
        )
        return await writer.record(
            lambda: records.schedule_session(
                cid,
                key=body.key,
                ordinal=body.ordinal,
                kind=body.kind,
                planned=body.planned,
                place=body.place.to_domain() if body.place else None,
                evidence=body.evidence_items(),
                recorded_by=writer.recorded_by,
            ),
            _answer,
        )
    if body.planned is not None:
        _refuse([FieldProblem("planned", "is for scheduled sessions; a held one has a start")])
    return await writer.record(
        lambda: records.record_convened_session(
            cid,
            key=body.key,
            ordinal=body.ordinal,
            kind=body.kind,
            format=body.format,
            start=body.start,
            end=body.end,
            place=body.place.to_domain() if body.place else None,
            co_chairs=[person.to_domain() for person in body.co_chairs],
            topics=body.topics,
            summary=body.summary,
            evidence=body.evidence_items(),
            recorded_by=writer.recorded_by,
        ),
        _answer,
    )


@router.get(
    "",
    response_model=SessionPage,
    summary="The commission's sessions, in order",
    description="The commission's sessions in the order of their dates, with what was "
    "recorded at each but the statistics, a page at a time; ?status= picks one status.",
    responses=read_answers("A page of sessions.", *READ, not_found=NO_COMMISSION),
)
async def list_sessions(
    cid: str,
    read_models: ReadModelsDep,
    moment: ReadingDep,
    status: Annotated[
        Literal["scheduled", "convened", "postponed", "cancelled"] | None,
        Query(description="Only sessions with this status."),
    ] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    page = await ask(read_models, "sessions", cid, moment.as_of, status, cursor, limit)
    if page is None:
        raise UnknownCommissionError.of(cid)
    return answer_json(SessionPage, page)


@router.get(
    "/{key}",
    response_model=SessionView,
    summary="Everything recorded at a session",
    description="The session with its protocol, declarations cited, statistics reported and "
    "corrections; its ETag is the If-Match of writes to it and its statistics.",
    responses=read_answers("The session.", *READ, not_found=NO_SESSION, etag=True),
)
def get_session(cid: str, key: str, read_models: ReadModelsDep, moment: ReadingDep) -> Response:
    answer = read_models.session(cid, key, moment.as_of)
    if answer is None:
        raise UnknownSessionError.of(cid, key)
    return answer_json(
        SessionView, answer, version_tag(read_models, session_id(cid, key), moment.as_of)
    )


@router.post(
    "/{key}/convened",
    status_code=201,
    response_model=SessionWritten,
    summary="Record that a scheduled or postponed session was held",
    description="Records that a planned session was held: its dates, format, place, "
    "co-chairs and topics.",
    responses=write_answers("The session, held.", *WRITE, not_found=SESSION_OR_SOURCE),
)
async def convene_session(
    cid: str,
    key: str,
    body: ConveneSession,
    writer: WriterDep,
) -> SessionWritten:
    def convene() -> Recorded[Session]:
        session = writer.records.session(cid, key)
        problems = []
        if body.key is not None and body.key != key:
            problems.append(FieldProblem("key", f"this session's key is {key}"))
        if body.ordinal is not None and body.ordinal != session.ordinal:
            problems.append(FieldProblem("ordinal", f"this session's ordinal is {session.ordinal}"))
        _refuse(problems)
        return writer.records.convene_session(
            cid,
            key,
            kind=body.kind,
            format=body.format,
            start=body.start,
            end=body.end,
            place=body.place.to_domain() if body.place else None,
            co_chairs=[person.to_domain() for person in body.co_chairs],
            topics=body.topics,
            summary=body.summary,
            evidence=body.evidence_items(),
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        )

    return await writer.record(convene, _answer)


@router.post(
    "/{key}/cancellation",
    status_code=201,
    response_model=SessionWritten,
    summary="Record that a planned session was cancelled",
    description="Records that a scheduled or postponed session will not be held, and why.",
    responses=write_answers("The session, cancelled.", *WRITE, not_found=SESSION_OR_SOURCE),
)
async def cancel_session(
    cid: str,
    key: str,
    body: CancelSession,
    writer: WriterDep,
) -> SessionWritten:
    return await writer.record(
        lambda: writer.records.cancel_session(
            cid,
            key,
            reason=body.reason,
            evidence=body.evidence_items(),
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        ),
        _answer,
    )


@router.post(
    "/{key}/postponement",
    status_code=201,
    response_model=SessionWritten,
    summary="Record that a planned session was postponed",
    description="Records that a scheduled session was put off, why, and the date now "
    "planned if any.",
    responses=write_answers("The session, postponed.", *WRITE, not_found=SESSION_OR_SOURCE),
)
async def postpone_session(
    cid: str,
    key: str,
    body: PostponeSession,
    writer: WriterDep,
) -> SessionWritten:
    return await writer.record(
        lambda: writer.records.postpone_session(
            cid,
            key,
            reason=body.reason,
            planned=body.planned,
            evidence=body.evidence_items(),
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        ),
        _answer,
    )


@router.post(
    "/{key}/protocols",
    status_code=201,
    response_model=SessionWritten,
    summary="Record the protocol signed at a held session",
    description="Records the protocol signed at a held session: its title, date and "
    "signatories, at least one of each party.",
    responses=write_answers("The session, with its protocol.", *WRITE, not_found=SESSION_OR_SOURCE),
)
async def sign_protocol(
    cid: str,
    key: str,
    body: SignProtocol,
    writer: WriterDep,
) -> SessionWritten:
    return await writer.record(
        lambda: writer.records.sign_protocol(
            cid,
            key,
            title=body.title,
            signed_on=body.signed_on,
            signatories=[person.to_domain() for person in body.signatories],
            evidence=body.evidence_items(),
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        ),
        _answer,
    )


@router.post(
    "/{key}/declarations",
    status_code=201,
    response_model=SessionWritten,
    summary="Record a declaration cited at a held session",
    description="Records that a held session cited a declaration: its title, its date, and how the "
    "session characterized it.",
    responses=write_answers(
        "The session, with the declaration.", *WRITE, not_found=SESSION_OR_SOURCE
    ),
)
async def reference_declaration(
    cid: str,
    key: str,
    body: ReferenceDeclaration,
    writer: WriterDep,
) -> SessionWritten:
    return await writer.record(
        lambda: writer.records.reference_declaration(
            cid,
            key,
            title=body.title,
            dated=body.dated,
            characterization=body.characterization,
            evidence=body.evidence_items(),
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        ),
        _answer,
    )


@router.post(
    "/{key}/statistics",
    status_code=201,
    response_model=StatisticWritten,
    summary="Record a figure reported at a held session",
    description="Records a figure reported at a held session: its measure, kind of value, unit, "
    "qualifier, period and parties; the answer holds its id, for corrections.",
    responses=write_answers("The statistic as recorded.", *WRITE, not_found=SESSION_OR_SOURCE),
)
async def report_statistic(
    cid: str,
    key: str,
    body: ReportStatistic,
    writer: WriterDep,
) -> StatisticWritten:
    return await writer.record(
        lambda: writer.records.report_statistic(
            cid,
            key,
            measure=body.measure,
            value_kind=body.value_kind,
            value=body.value,
            unit=body.unit,
            qualifier=body.qualifier,
            reporter=body.reporter,
            partner=body.partner,
            period=body.period,
            stated_by=body.stated_by,
            remarks=body.remarks,
            evidence=body.evidence_items(),
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        ),
        lambda recorded: (
            statistic_written(recorded.aggregate, recorded.statistic_id, recorded.position),
            f"/statistics/{recorded.statistic_id}",
        ),
    )


@router.post(
    "/{key}/corrections",
    status_code=201,
    response_model=SessionWritten,
    summary="Correct the session's own record",
    description="Corrects fields of the session's own record (not its facts); the earlier "
    "values stay in its corrections, with the reason.",
    responses=write_answers("The session, corrected.", *WRITE, not_found=SESSION_OR_SOURCE),
)
async def correct_session(
    cid: str,
    key: str,
    body: CorrectSession,
    writer: WriterDep,
) -> SessionWritten:
    return await writer.record(
        lambda: writer.records.correct_session(
            cid,
            key,
            changes=body.changes.to_domain(),
            reason=body.reason,
            evidence=[item.to_domain() for item in body.evidence],
            recorded_by=writer.recorded_by,
            expected_version=writer.expected_version,
        ),
        _answer,
    )
