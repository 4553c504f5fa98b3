"""Sources: the documents facts are quoted from."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.dependencies import PrincipalDep, RecordsDep, etag
from api.routes._common import created
from api.schemas import RegisterSource
from api.views import SourceView, source_view

router = APIRouter(prefix="/sources", tags=["sources"])


@router.post("", status_code=201, response_model=SourceView, summary="Register a source")
def register_source(
    body: RegisterSource, records: RecordsDep, principal: PrincipalDep, response: Response
) -> SourceView:
    recorded = records.register_source(**body.model_dump(), recorded_by=principal.name)
    source = recorded.aggregate
    created(response, f"/sources/{source.slug}", source.version)
    return source_view(source, recorded.position)


@router.get("/{source_id}", response_model=SourceView, summary="A source, with its text")
def get_source(source_id: str, records: RecordsDep, response: Response) -> SourceView:
    source = records.source(source_id)
    response.headers["ETag"] = etag(source.version)
    return source_view(source)
