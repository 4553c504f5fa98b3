"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.openapi import PROBLEM, read_answers
from api.read_views import Readiness, ReadModelState, StallView
from api.security import ApiKeys
from api.views import Health
from projections.queries import ReadModels
from projections.store import Generation
from projections.values import timestamp

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    summary="The service is up",
    description="Answers while the service runs, without asking the database; open to all.",
    responses=read_answers("The service is up.", 422),
)
async def health() -> Health:
    """Answered on the event loop, touching nothing: busy worker threads (reads waiting for
    the database) never make the service look dead."""
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    response_model_exclude_none=True,
    summary="Database reachable, read models current; with an admin key, each one's position",
    description="Whether the database is reachable and the read models current; open to all. "
    "An admin key is shown the log's position and each read model's position, lag and stall.",
    responses=read_answers("Ready, catching up, or degraded by a stalled read model.", 401, 422)
    | {
        503: {
            "description": "The database cannot be reached.",
            "model": Readiness,
            "content": PROBLEM,
        }
    },
)
async def ready(request: Request, response: Response) -> Readiness:
    """Anyone may ask whether the service is ready; only an admin key is shown the log's
    position and each read model's position, lag and stall, which tell how much is written
    and when. A stalled read model makes the service ``degraded``, answered 200, not 503:
    every instance sees the same stall (it is kept in the database), so a balancer that took
    out the instances saying so would take out the whole API, whose writes and other read
    models go on."""
    keys: ApiKeys = request.app.state.api_keys
    authorization = request.headers.get("authorization")
    # A key that is not valid is refused (401), as everywhere; none is asking as anyone.
    principal = await keys.principal_of_header(
        None if authorization is None else authorization.encode("latin-1")
    )
    read_models: ReadModels = request.app.state.read_models
    try:
        log_position, live = await run_in_threadpool(_positions, read_models)
    except Exception:  # any failure to reach the database means not ready
        response.status_code = 503
        return Readiness(status="database-unreachable", database="unreachable")
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
    status = "degraded" if stalled else "ready" if caught_up else "catching-up"
    if principal is None or not principal.may("admin"):
        return Readiness(status=status, database="reachable")
    return Readiness(
        status=status, database="reachable", log_position=log_position, read_models=states
    )


def _positions(read_models: ReadModels) -> tuple[int, dict[str, Generation]]:
    return read_models.store.max_position(), read_models.positions()
