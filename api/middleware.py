"""What every request passes through before a route sees it, and every response after.

One ASGI middleware, not a stack of them, so the write path stays short. In this order, each
step refusing with problem+json before the next is tried:

1. **Parameters no record can hold.** A path or query parameter holding NUL (which PostgreSQL's
   text cannot hold either) names nothing: ``404`` for a path, ``422`` naming the parameter.
2. **Who is asking**, before anything else is read: ``401`` without a valid key, ``403`` for
   a role too low. The principal is left in the request's state for the routes.
3. **A POST's body**: larger than allowed (``413``, from its declared length or as it
   arrives), not JSON (``415``), not all sent within the request timeout (``408``, and the
   connection is closed), then its JSON: at most ``MAX_VALUES`` arrays and objects, nested at
   most ``MAX_DEPTH`` deep, each name once in an object (``400``/``422``). The JSON is checked
   by the C parser on a body bounded in size and in arrays and objects, never byte by byte in
   Python; a large body is checked in a worker thread, off the event loop.
4. **Any failure** no handler answered: ``503`` when the database could not be reached (a
   key looked up while it restarts, say), else ``500``, logged once, as one line.

Every response gets the security headers, and a client refused too often gets its refusals
a second late (:class:`Refusals`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.docs import DOCS_CSP, is_asset
from api.logs import describe, one_line
from api.problems import UNAVAILABLE, authentication_problem, problem, unavailable_problem
from api.security import ANONYMOUS, ApiKeys, NotAllowedError, NotAuthenticatedError, Principal
from api.settings import Settings
from projections.queries import begin_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("diprec.api")

# Request bodies nest at most: body → evidence list → item, or changes → co_chairs → person.
MAX_DEPTH = 8
# Arrays and objects in one body: the largest fact (a session with 100 co-chairs and 50
# quotes) has a few hundred; a million empty arrays would cost the parser 120 ms.
MAX_VALUES = 2_000
# From this size a body's JSON is checked in a worker thread.
LARGE_BODY = 64 * 1024

# Paths anyone may read: liveness, readiness, the API's own description, the problem types.
OPEN_PATHS = frozenset(
    {"/health", "/ready", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
# The interactive docs load their scripts and styles (api/docs.py); the rest is plain data.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")

# A JSON string (escapes included), and every byte that is not a bracket.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith("/problems/") or is_asset(path)


def needed_role(method: str, path: str) -> str:
    if path.startswith("/admin"):
        return "admin"
    return "reader" if method in ("GET", "HEAD", "OPTIONS") else "recorder"


class RefusedError(Exception):
    """A request answered at the edge, with ``response``."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _bad_json(detail: str) -> RefusedError:
    return RefusedError(problem(400, "malformed-json", "Malformed JSON", detail))


def parse_body(body: bytes) -> Any:
    """The body's JSON, refused unless it is JSON of at most ``MAX_VALUES`` arrays and
    objects, nested at most ``MAX_DEPTH`` deep, each name given once per object."""
    if body.count(b"[") + body.count(b"{") > MAX_VALUES:
        # Brackets inside strings (a source's text, say) count for nothing: count the others.
        skeleton = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
        if skeleton.count(b"[") + skeleton.count(b"{") > MAX_VALUES:
            raise _bad_json(f"The body holds more than {MAX_VALUES} arrays and objects.")
    try:
        value = json.loads(body, object_pairs_hook=_names_once)
    except _NameTwiceError as error:
        raise RefusedError(
            problem(
                422,
                "invalid-request",
                "Invalid request",
                "The request has invalid fields; nothing was recorded.",
                errors=[
                    {
                        "field": error.name,
                        "message": "is given more than once in one object; give it once",
                    }
                ],
            )
        ) from None
    except RecursionError:
        raise _bad_json(f"The body nests deeper than {MAX_DEPTH} levels.") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _bad_json("The request body is not JSON.") from None
    if _depth(value) > MAX_DEPTH:
        raise _bad_json(f"The body nests deeper than {MAX_DEPTH} levels.")
    return value


class _NameTwiceError(ValueError):
    def __init__(self, name: str) -> None:
        self.name = name


def _names_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = dict(pairs)
    if len(names) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _NameTwiceError(name)
            seen.add(name)
    return names


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (at most MAX_VALUES of them,
    so the walk is short)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def nul_in_parameters(scope: Scope) -> RefusedError | None:
    """A refusal of a path or query parameter holding NUL, which names nothing recorded."""
    if "\x00" in scope["path"]:
        return RefusedError(problem(404, "not-found", "Not found", "No resource has this path."))
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return RefusedError(
                    problem(
                        422,
                        "invalid-request",
                        "Invalid request",
                        "The request has invalid parameters.",
                        errors=[
                            {
                                "field": one_line(name.replace("\x00", "")) or "query",
                                "message": "contains a NUL character, which no record holds",
                            }
                        ],
                    )
                )
    return None


# Answers that say the client sent what it should not have: each spends from its budget.
# (Not 409/412, which answer a race, nor 5xx, which are the service's.)
REFUSALS = frozenset({400, 401, 403, 404, 405, 408, 413, 415, 422})


class Refusals:
    """Each client's budget of refused requests: a token bucket of ``5 × per_second``
    refusals, refilled at ``per_second``. A client that has spent it gets each further
    refusal ``penalty`` seconds late (awaited on the event loop, holding nothing but its
    connection), so a client that sends bad requests in a loop — without a key, guessing
    keys, or a recorder's key and bodies no record takes — is slowed to a request a second
    per connection, while requests that are answered (and races lost: 409, 412) cost nothing.
    A client is its API key once known, else its address; at most ``clients`` are remembered,
    the least recent forgotten first. ``per_second`` 0: nobody is slowed.
    """

    def __init__(self, per_second: float, *, penalty: float = 1.0, clients: int = 10_000) -> None:
        self.per_second = per_second
        self.burst = 5 * per_second
        self.penalty = penalty
        self.clients = clients
        self._budgets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def refused(self, client: str) -> float:
        """Spends a token of ``client``'s; answers how long its refusal is to wait."""
        if not self.per_second:
            return 0.0
        now = time.monotonic()
        tokens, at = self._budgets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.per_second) - 1
        self._budgets[client] = (tokens, now)
        if len(self._budgets) > self.clients:
            self._budgets.popitem(last=False)
        return self.penalty if tokens < 0 else 0.0


def _client(scope: Scope) -> str:
    principal = scope.get("state", {}).get("principal")
    if principal is not None and principal.key_id is not None:
        return f"key {principal.key_id}"
    address = scope.get("client")
    return f"address {address[0] if address else ''}"


class Guard:
    """Request limits, authentication, and response headers, for the whole app."""

    def __init__(self, app: ASGIApp, *, settings: Settings, api_keys: ApiKeys) -> None:
        self.app = app
        self.settings = settings
        self.api_keys = api_keys
        self.max_body_bytes = settings.max_body_bytes
        self.refusals = Refusals(settings.refusals_per_second)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(DOCS_PATHS)
        started = False
        body_unread = True

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if message["status"] in REFUSALS:
                    delay = self.refusals.refused(_client(scope))
                    if delay:
                        await asyncio.sleep(delay)
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                headers.append(DOCS_CSP if docs else API_CSP)
                message["headers"] = headers
            await send(message)

        try:
            refused = nul_in_parameters(scope)
            if refused is not None:
                raise refused
            principal = await self._principal(scope)
            scope.setdefault("state", {})["principal"] = principal
            begin_request()  # the request's reads learn what its wait for a position found
            if scope["method"] == "POST":
                body = await self._body(scope, receive)
                if body is None:
                    return  # the client went away
                body_unread = False
                if len(body) >= LARGE_BODY:
                    await run_in_threadpool(parse_body, body)
                else:
                    parse_body(body)
                receive = _replaying(body, receive)
            await self.app(scope, receive, send_with_headers)
        except RefusedError as refusal:
            if body_unread and scope["method"] not in ("GET", "HEAD"):
                # Its body is not worth reading: close rather than take it in to drain it.
                refusal.response.headers["Connection"] = "close"
            await refusal.response(scope, receive, send_with_headers)
        except UNAVAILABLE as error:  # looking a key up, say, while the database restarts
            if not started:
                await unavailable_problem(scope["method"], scope["path"], error)(
                    scope, receive, send_with_headers
                )
        except Exception as error:  # answered once here, and logged once, as one line
            logger.error(
                "unexpected error on %s %s: %s", scope["method"], scope["path"], describe(error)
            )
            if not started:
                await problem(
                    500,
                    "internal",
                    "Internal error",
                    "The service failed to answer; nothing half-done was recorded. "
                    "The error is logged.",
                )(scope, receive, send_with_headers)

    async def _principal(self, scope: Scope) -> Principal:
        """Who is asking; refused unless they may. Open paths are open to all, and their
        keys are not looked at here (``/health`` never waits for the database)."""
        path, method = scope["path"], scope["method"]
        if is_open(path):
            return ANONYMOUS
        role = needed_role(method, path)
        try:
            principal = await self.api_keys.principal_of_header(_header(scope, b"authorization"))
            if principal is None:
                if role == "reader" and self.settings.anonymous_reads:
                    return ANONYMOUS
                msg = "send an API key: Authorization: Bearer <key>"
                raise NotAuthenticatedError(msg)
            if not principal.may(role):
                msg = f"a {principal.role} key cannot do this; it needs the {role} role"
                raise NotAllowedError(msg)
        except (NotAuthenticatedError, NotAllowedError) as error:
            raise RefusedError(authentication_problem(error)) from None
        return principal

    async def _body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The POST's body, read within the request timeout; None when the client went
        away before sending it all."""
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()
        media_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
        if media_type != b"application/json":
            raise RefusedError(
                problem(
                    415,
                    "unsupported-media-type",
                    "Unsupported media type",
                    "Send the body as JSON, with Content-Type: application/json.",
                )
            )
        try:
            async with asyncio.timeout(self.settings.request_timeout_seconds):
                body = await self._receive_body(receive)
        except TimeoutError:
            raise RefusedError(
                problem(
                    408,
                    "request-timeout",
                    "Request timeout",
                    f"The body was not sent within {self.settings.request_timeout_seconds:g} s.",
                    headers={"Connection": "close"},
                )
            ) from None
        return body

    async def _receive_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> RefusedError:
        return RefusedError(
            problem(
                413,
                "request-too-large",
                "Request too large",
                f"The body is larger than {self.max_body_bytes} bytes.",
                headers={"Connection": "close"},
            )
        )


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def _replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app: the body already read, then whatever the client sends next
    (a disconnect)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
