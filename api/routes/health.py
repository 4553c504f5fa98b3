"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.dependencies import ReadModelsDep
from api.read_views import Readiness, ReadModelState, StallView
from api.views import Health
from projections.values import timestamp

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="The service is up")
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Database reachable; each read model's position and lag, and any stall",
    responses={503: {"description": "The database cannot be reached."}},
)
def ready(read_models: ReadModelsDep, response: Response) -> Readiness:
    """A stalled read model makes the service ``degraded``, answered 200, not 503: every
    instance sees the same stall (it is kept in the database), so a balancer that took out
    the instances saying so would take out the whole API, whose writes and other read models
    go on."""
    try:
        log_position = read_models.store.max_position()
        live = read_models.positions()
    except Exception:  # any failure to reach the database means not ready
        response.status_code = 503
        return Readiness(
            status="database-unreachable", database="unreachable", log_position=0, read_models={}
        )
    states = {
        name: ReadModelState(
            generation=generation.generation,
            code_version=generation.code_version,
            position=generation.position,
            lag=max(0, log_position - generation.position),
            stalled=generation.stall is not None,
            stall=None
            if generation.stall is None
            else StallView(
                event_position=generation.stall.event,
                event_topic=generation.stall.topic,
                error=generation.stall.error,
                since=timestamp(generation.stall.since),
            ),
        )
        for name, generation in sorted(live.items())
    }
    caught_up = all(state.lag == 0 for state in states.values())
    stalled = any(state.stalled for state in states.values())
    return Readiness(
        status="degraded" if stalled else "ready" if caught_up else "catching-up",
        database="reachable",
        log_position=log_position,
        read_models=states,
    )
