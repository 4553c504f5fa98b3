"""How every write answers: 201, the resource, its Location, its version as ETag."""

from __future__ import annotations

from fastapi import Response

from api.dependencies import etag


def created(response: Response, location: str, version: int) -> None:
    response.headers["Location"] = location
    response.headers["ETag"] = etag(version)
