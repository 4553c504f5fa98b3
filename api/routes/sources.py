"""Sources: the documents facts are quoted from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.dependencies import ReadingDep, ReadModelsDep, RecordsDep, etag
from api.openapi import NO_SOURCE, READ, WRITE, read_answers, write_answers
from api.problems import InvalidQueryError
from api.read_views import SourcePage
from api.routes._common import Cursor, Limit, answer_json, ask
from api.schemas import RegisterSource, RegisterSourceText
from api.views import SourceView, source_view
from api.writing import WriterDep
from domain.codes import is_language_tag
from domain.errors import UnknownSourceError
from domain.values import MAX_NAME

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
    "",
    response_model=SourcePage,
    summary="Registered sources, by id: metadata, and whether the text is known",
    description="Every registered source, or those of one publisher or language, a page at a "
    "time, by id; each with its metadata and whether its text is registered (not the text).",
    responses=read_answers("A page of sources.", *READ),
)
async def list_sources(
    read_models: ReadModelsDep,
    moment: ReadingDep,
    publisher: Annotated[
        str | None, Query(max_length=MAX_NAME, description="The publisher, exactly as registered.")
    ] = None,
    language: Annotated[
        str | None,
        Query(
            description="A BCP 47 language tag: sources in it or in a narrower tag of it "
            "(az matches az, az-Latn and az-Cyrl-AZ)."
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    if language is not None and not is_language_tag(language):
        raise InvalidQueryError(
            "language", f"{language!r} is not a BCP 47 language tag (e.g. en, ru, az-Latn)"
        )
    page = await ask(read_models, "sources", publisher, language, moment.as_of, cursor, limit)
    return answer_json(SourcePage, page)


@router.post(
    "/{source_id}/text",
    status_code=201,
    response_model=SourceView,
    summary="Register the text of a source registered without it",
    description="Gives a source registered without text its text, once: every quote of it "
    "recorded before is checked against the text by the read models, and its status moves "
    "(verified or mismatch), the earlier status kept in the history. A text registered is "
    "never replaced.",
    responses=write_answers("The source, with its text.", *WRITE, not_found=NO_SOURCE),
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


@router.get(
    "/{source_id}",
    response_model=SourceView,
    summary="A source, with its text",
    description="The source as registered, with its full text when it was given one; with "
    "`as_of`, as it stood then (404 before it was registered).",
    responses=read_answers("The source.", *READ, not_found=NO_SOURCE, etag=True),
)
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
