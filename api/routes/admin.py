"""Administration: rebuilding read models from the log."""

from __future__ import annotations

import logging
import threading

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.openapi import WHEN, WRITE, write_answers
from api.read_views import RebuildStarted
from domain.errors import FieldProblem, InvalidCommandError
from projections.runner import CannotApplyError, Projector, RebuildInProgressError

router = APIRouter(prefix="/admin", tags=["admin"])
logger = logging.getLogger("diprec.api")


class RebuildReadModels(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    read_models: list[str] | None = Field(
        default=None, description="Names of read models to rebuild; all when left out."
    )


@router.post(
    "/rebuilds",
    status_code=202,
    response_model=RebuildStarted,
    summary="Rebuild read models beside the live ones; queries switch when they catch up",
    description="Rebuilds the read models named (all when none is) beside the live ones, "
    "from the log; queries switch to each when it catches up. GET /ready shows the switch.",
    responses=write_answers(
        "The rebuilds started.",
        *(status for status in WRITE if status != 412),  # no If-Match: nothing is versioned
        status=202,
        when={
            409: "A read model still cannot apply the event it stalled at; nothing started.",
            503: WHEN[503],
        },
    ),
)
def rebuild(body: RebuildReadModels, request: Request) -> RebuildStarted:
    """A stalled read model that this code still cannot bring past its event is refused
    (409), with the event and the error: its rebuild would fail there. Nothing is started."""
    projector: Projector = request.app.state.projector
    names = body.read_models or list(projector.models)
    unknown = [name for name in names if name not in projector.models]
    if unknown:
        raise InvalidCommandError(
            [
                FieldProblem(
                    "read_models", f"no read model {name!r}; known: {', '.join(projector.models)}"
                )
                for name in unknown
            ]
        )

    for name in names:
        failure = projector.still_fails(name)
        if failure is not None:
            raise failure

    started = [name for name in names if not projector.is_rebuilding(name)]

    def run() -> None:
        try:
            projector.rebuild_all(started)
        except RebuildInProgressError as error:
            logger.info("read model %s is being rebuilt already", error)
        except CannotApplyError as failure:
            logger.error("rebuild failed: %s", failure)
        except Exception:
            logger.exception("rebuilding read models %s failed", ", ".join(started))

    if started:
        threading.Thread(target=run, name="rebuild", daemon=True).start()
    busy = sorted(set(names) - set(started))
    return RebuildStarted(
        read_models=started,
        detail="Rebuilding beside the live generations; GET /ready shows the switch."
        + (f" Already being rebuilt: {', '.join(busy)}." if busy else ""),
    )
