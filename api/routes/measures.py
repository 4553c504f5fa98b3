"""The measure catalogue: what a statistic's measure, kind of value and unit may be."""

from __future__ import annotations

from fastapi import APIRouter

from api.openapi import READ, read_answers
from api.read_views import MeasureCatalogue, MeasureEntry, UnitEntry, ValueKindEntry
from domain.measures import measure_catalogue, unit_catalogue

router = APIRouter(tags=["measures"])


@router.get(
    "/measures",
    response_model=MeasureCatalogue,
    summary="Every measure, the kinds of value it is reported as, and their units",
    description="The catalogue statistics are checked against: each measure with its "
    "description and the kinds of value it may be reported as, each kind with the units it "
    "is given in, and what each unit means. It changes only with the code.",
    responses=read_answers("The catalogue.", *READ),
)
async def list_measures() -> MeasureCatalogue:
    """The catalogue the record checks statistics against; it changes only with the code."""
    return MeasureCatalogue(
        items=[
            MeasureEntry(
                id=measure.id,
                description=measure.description,
                value_kinds=[
                    ValueKindEntry(id=kind.id, description=kind.description, units=list(kind.units))
                    for kind in measure.value_kinds
                ],
            )
            for measure in measure_catalogue()
        ],
        units=[UnitEntry(id=unit.id, description=unit.description) for unit in unit_catalogue()],
    )
