"""Sources: the documents facts are quoted from."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.dependencies import RecordsDep, etag
from api.openapi import NO_SOURCE, WRITE, read_answers, write_answers
from api.schemas import RegisterSource
from api.views import SourceView, source_view
from api.writing import WriterDep

router = APIRouter(prefix="/sources", tags=["sources"])


@router.post(
    "",
    status_code=201,
    response_model=SourceView,
    summary="Register a source",
    description="Registers a document facts are quoted from; with its full text, every quote "
    "of it is checked against the text.",
    responses=write_answers("The source as registered.", *WRITE),
)
async def register_source(body: RegisterSource, writer: WriterDep) -> SourceView:
    return await writer.record(
        lambda: writer.records.register_source(**body.model_dump(), recorded_by=writer.recorded_by),
        lambda recorded: (
            source_view(recorded.aggregate, recorded.position),
            f"/sources/{recorded.aggregate.slug}",
        ),
    )


@router.get(
    "/{source_id}",
    response_model=SourceView,
    summary="A source, with its text",
    description="The source as registered, with its full text when it was given one.",
    responses=read_answers("The source.", 401, 503, not_found=NO_SOURCE, etag=True),
)
def get_source(source_id: str, records: RecordsDep, response: Response) -> SourceView:
    source = records.source(source_id)
    response.headers["ETag"] = etag(source.version)
    return source_view(source)
