"""The HTTP service: ``create_app`` wires the routers to one ``Records`` application service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import openapi, problems
from api.commits import GroupCommit
from api.dependencies import authorize, refuse_unknown_parameters
from api.docs import offline_app
from api.middleware import OPEN_PATHS, Guard
from api.routes import (
    admin,
    commissions,
    declarations,
    events,
    health,
    measures,
    sessions,
    sources,
    statistics,
    trade,
)
from api.security import ApiKeys
from api.settings import Settings
from api.waits import LogHead, LogHeadReader, PositionWaits
from domain.application import Records
from projections.queries import ReadModels
from projections.runner import Projector

DESCRIPTION = """\
An event-sourced record of intergovernmental commissions: sessions convened, protocols
signed, declarations cited and statistics reported, each fact with a verbatim quote of its
source. Nothing is updated or deleted: corrections and retractions are facts of their own.
"""


def create_app(settings: Settings, records: Records, projector: Projector) -> FastAPI:
    """Builds the service around the application service (writes) and the projector whose
    read models answer queries; tests build as many as they like."""
    records.require_source_text = settings.require_source_text
    api_keys = ApiKeys(projector.store.pool)
    read_models = ReadModels(projector.store, query_timeout=settings.query_timeout_seconds)
    commits = GroupCommit(records, wait=settings.write_timeout_seconds)
    head_reader = LogHeadReader(projector.store.conninfo, settings.query_timeout_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for watch in (api_keys.watch, read_models.watch):
            watch.start(projector.store.conninfo)
        api_keys.start_writing_uses()
        try:
            yield
        finally:
            commits.stop()
            api_keys.stop_writing_uses()
            await head_reader.stop()
            for watch in (api_keys.watch, read_models.watch):
                watch.stop()

    app = offline_app(
        lifespan=lifespan,
        dependencies=[Depends(authorize), Depends(refuse_unknown_parameters)],
        title="diprec",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "sources", "description": "Documents that facts are quoted from."},
            {"name": "commissions", "description": "Commissions and their co-chairs."},
            {"name": "sessions", "description": "Sessions and the facts recorded at them."},
            {"name": "statistics", "description": "Figures, their corrections, retractions."},
            {"name": "measures", "description": "What each measure, kind of value and unit means."},
            {"name": "trade", "description": "The trade position between two parties."},
            {"name": "instruments", "description": "Declarations and protocols."},
            {"name": "log", "description": "Every event, in record order."},
            {"name": "admin", "description": "Rebuilding read models."},
        ],
    )
    app.state.settings = settings
    app.state.records = records
    app.state.commits = commits
    app.state.projector = projector
    app.state.read_models = read_models
    app.state.waits = PositionWaits(read_models, most=settings.max_waiting_reads)
    app.state.log_head = LogHead(head_reader)
    app.state.api_keys = api_keys
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=["Location", "ETag", "Retry-After"],
        )
    app.add_middleware(Guard, settings=settings, api_keys=api_keys)
    problems.install(app)
    app.openapi = lambda: openapi.document(app, OPEN_PATHS)  # type: ignore[method-assign]
    for module in (
        sources,
        commissions,
        sessions,
        statistics,
        measures,
        trade,
        declarations,
        events,
        health,
        admin,
    ):
        app.include_router(module.router)
    return app
