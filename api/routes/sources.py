"""Sources: the documents facts are quoted from."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.dependencies import ReadingDep, RecordsDep, etag
from api.schemas import RegisterSource, RegisterSourceText
from api.views import SourceView, source_view
from api.writing import WriterDep
from domain.errors import UnknownSourceError

router = APIRouter(prefix="/sources", tags=["sources"])


@router.post("", status_code=201, response_model=SourceView, summary="Register a source")
async def register_source(body: RegisterSource, writer: WriterDep) -> SourceView:
    return await writer.record(
        lambda: writer.records.register_source(**body.model_dump(), recorded_by=writer.recorded_by),
        lambda recorded: (
            source_view(recorded.aggregate, recorded.position),
            f"/sources/{recorded.aggregate.slug}",
        ),
    )


@router.post(
    "/{source_id}/text",
    status_code=201,
    response_model=SourceView,
    summary="Register the text of a source registered without it",
)
async def register_source_text(
    source_id: str, body: RegisterSourceText, writer: WriterDep
) -> SourceView:
    return await writer.record(
        lambda: writer.records.register_source_text(
            source_id, text=body.text, recorded_by=writer.recorded_by
        ),
        lambda recorded: (
            source_view(recorded.aggregate, recorded.position),
            f"/sources/{recorded.aggregate.slug}",
        ),
    )


@router.get("/{source_id}", response_model=SourceView, summary="A source, with its text")
def get_source(
    source_id: str, records: RecordsDep, moment: ReadingDep, response: Response
) -> SourceView:
    if moment.as_of is None:
        source = records.source(source_id)
    else:
        found = records.source_as_of(source_id, moment.as_of)
        if found is None:
            raise UnknownSourceError(f"no source {source_id!r} was registered at {moment.as_of}")
        source = found
    response.headers["ETag"] = etag(source.version)
    return source_view(source)
