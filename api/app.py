"""The HTTP service: ``create_app`` wires the routers to one ``Records`` application service."""

from __future__ import annotations

from fastapi import FastAPI

from api import problems
from api.routes import commissions, events, health, sessions, sources, statistics
from api.settings import Settings
from domain.application import Records

DESCRIPTION = """\
An event-sourced record of intergovernmental commissions: sessions convened, protocols
signed, declarations cited and statistics reported, each fact with a verbatim quote of its
source. Nothing is updated or deleted: corrections and retractions are facts of their own.
"""


def create_app(settings: Settings, records: Records) -> FastAPI:
    """Builds the service around an application service; tests build as many as they like."""
    app = FastAPI(
        title="diprec",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "sources", "description": "Documents that facts are quoted from."},
            {"name": "commissions", "description": "Commissions and their co-chairs."},
            {"name": "sessions", "description": "Sessions and the facts recorded at them."},
            {"name": "statistics", "description": "Figures, their corrections, retractions."},
            {"name": "log", "description": "Every event, in record order."},
        ],
    )
    app.state.settings = settings
    app.state.records = records
    problems.install(app)
    for module in (sources, commissions, sessions, statistics, events, health):
        app.include_router(module.router)
    return app
