"""The interactive docs, /docs (Swagger UI) and /redoc, served offline.

Their scripts and styles come from the ``fastapi-offline`` package, installed with the service,
and are served under ``ASSETS``: the pages load nothing from another host, so they work on a
network without the internet.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

#: Where the pages' scripts, styles and icon are served; open to all, like the pages.
ASSETS = "/docs/assets"

#: Swagger UI asks a validator on the internet about the document unless told not to.
SWAGGER_UI = {"validatorUrl": None}


#: The pages' Content-Security-Policy: a browser loads nothing for them from another host.
#: (Swagger UI starts from an inline script and ReDoc sets inline styles, runs a worker from a
#: blob and draws icons from data: URLs.)
DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    b"frame-ancestors 'none'",
)


def offline_app(**settings: Any) -> FastAPI:
    """A FastAPI app whose /docs and /redoc are served from the installed package."""
    return FastAPIOffline(static_url=ASSETS, swagger_ui_parameters=SWAGGER_UI, **settings)


def is_asset(path: str) -> bool:
    return path.startswith(ASSETS + "/")
