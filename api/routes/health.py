"""Liveness."""

from __future__ import annotations

from fastapi import APIRouter

from api.views import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="The service is up")
def health() -> Health:
    return Health(status="ok")
