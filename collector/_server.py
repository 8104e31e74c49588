"""The OTLP/HTTP receiver: ``POST /v1/traces`` on aiohttp, stored by ``SpanWriter``'s thread.

Why aiohttp: it is maintained, asyncio-native, and already installed wherever LlamaIndex is; it
needs no separate ASGI server; and it bounds what a client can make it hold: request bodies
(``client_max_size``), header lines and counts, and (in the 3.14.5 the ``collect`` extra asks
for; earlier versions did not) the time to a connection's first request: its keep-alive timer
starts when it connects, so a client that trickles headers is cut off after ``idle_timeout``
(``test_slow_bodies_and_slow_headers_are_cut_off``). The body's deadline (``body_timeout``,
answered 408) is ours.
Importing it costs ~0.25 s, so the CLI imports this module only when ``collect`` runs.

A request is checked in this order, each failure one status and a one-line reason: bearer token
(401), content type (415), encoding (415), declared size (413), body within its deadline (408)
and size (413), gzip (400 if corrupt or truncated; 413 if it inflates past the limit), decoding
(400; single bad spans are only counted in ``partial_success``), room in the queue (503 with
``Retry-After``). Log records feed the GenAI event join (``_logs``); metrics are accepted and
dropped, so an app that sends all three signals to one endpoint logs no errors.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from spyglass.collector._decode import BadRequest, decode_json, decode_protobuf, response
from spyglass.collector._logs import EventJoin, decode_logs, logs_response
from spyglass.collector._writer import SpanWriter

logger = logging.getLogger("spyglass")

_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
MiB = 1024 * 1024


@dataclass(frozen=True)
class CollectorSettings:
    """Where the receiver listens, what it lets in, and where it writes."""

    db: Path
    host: str = "127.0.0.1"
    port: int = 4318
    token: str | None = None
    max_body_bytes: int = 16 * MiB
    """Largest request body, compressed or inflated."""
    max_queued_spans: int = 20_000
    """Spans accepted but not yet written; past this, requests get 503."""
    body_timeout: float = 30.0
    idle_timeout: float = 30.0
    """Seconds a connection may stay idle, or take to send its first request's headers."""
    drain_timeout: float = 30.0
    """Seconds shutdown keeps retrying a database that refuses writes."""


@dataclass
class Counts:
    """What the receiver did, for its closing line."""

    requests: int = 0
    accepted: int = 0
    rejected: int = 0
    refused: int = 0
    """Requests answered 503 because the queue was full."""
    errors: dict[int, int] = field(default_factory=dict)


class _Refuse(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _gunzip(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise _Refuse(400, f"the gzip body is corrupt: {exc}") from None
    if len(out) > limit:
        raise _Refuse(413, f"the body inflates past the {limit}-byte limit")
    if not inflater.eof:
        raise _Refuse(400, "the gzip body is truncated")
    return out


def _is_json(request: web.BaseRequest) -> bool:
    kind = request.content_type.lower()
    if kind == _PROTOBUF:
        return False
    if kind == _JSON:
        return True
    raise _Refuse(415, f"content type must be {_PROTOBUF} or {_JSON}, not {kind or 'none'!r}")


class Receiver:
    """The request handlers, sharing one writer and one event join."""

    def __init__(self, settings: CollectorSettings, writer: SpanWriter, joins: EventJoin) -> None:
        self.settings = settings
        self.writer = writer
        self.joins = joins
        self.counts = Counts()
        self._bearer = f"Bearer {settings.token}".encode() if settings.token else None

    def _check_token(self, request: web.Request) -> None:
        if self._bearer is not None:
            given = request.headers.get("Authorization", "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, self._bearer):
                raise _Refuse(401, "a valid 'Authorization: Bearer TOKEN' header is required")

    async def _body(self, request: web.Request) -> bytes:
        encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", ""):
            raise _Refuse(415, f"content encoding must be gzip or none, not {encoding!r}")
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise _Refuse(413, f"the body is larger than the {limit}-byte limit")
        try:
            raw = await asyncio.wait_for(request.read(), self.settings.body_timeout)
        except asyncio.TimeoutError:
            raise _Refuse(408, "the body did not arrive in time") from None
        except web.HTTPRequestEntityTooLarge:
            raise _Refuse(413, f"the body is larger than the {limit}-byte limit") from None
        return _gunzip(raw, limit) if encoding == "gzip" else raw

    def _error(self, status: int, reason: str, as_json: bool | None) -> web.Response:
        self.counts.errors[status] = self.counts.errors.get(status, 0) + 1
        headers = {"Retry-After": "1"} if status == 503 else {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if as_json is None:
            return web.Response(status=status, text=reason + "\n", headers=headers)
        if as_json:
            body = json.dumps({"code": 3, "message": reason}).encode()
            return web.Response(status=status, body=body, content_type=_JSON, headers=headers)
        from google.rpc.status_pb2 import Status

        body = Status(code=3, message=reason).SerializeToString()
        return web.Response(status=status, body=body, content_type=_PROTOBUF, headers=headers)

    async def _guarded(self, request: web.Request, kind: str) -> web.StreamResponse:
        self.counts.requests += 1
        as_json: bool | None = None
        try:
            self._check_token(request)
            as_json = _is_json(request)
            raw = await self._body(request)
            if kind == "traces":
                return self._traces(raw, as_json)
            if kind == "logs":
                self.joins.add(decode_logs(raw, as_json))
                return web.Response(body=logs_response(as_json), content_type=request.content_type)
            body = b"{}" if as_json else b""
            return web.Response(body=body, content_type=request.content_type)
        except _Refuse as refusal:
            return self._error(refusal.status, refusal.reason, as_json)
        except BadRequest as exc:
            return self._error(400, str(exc), as_json)
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
            logger.debug("spyglass collect: a client went away mid-request: %r", exc)
            return self._error(400, "the request was cut short", as_json)
        except Exception as exc:  # the receiver must outlive any one request
            if type(exc).__module__.startswith("aiohttp"):  # a broken or vanished client
                logger.debug("spyglass collect: bad request: %r", exc)
                return self._error(400, f"the request could not be read: {exc}", as_json)
            logger.warning("spyglass collect: request failed", exc_info=True)
            return self._error(500, "the receiver failed on this request", as_json)

    def _traces(self, raw: bytes, as_json: bool) -> web.Response:
        decoded = decode_json(raw) if as_json else decode_protobuf(raw)
        if not self.writer.offer(decoded):
            self.counts.refused += 1
            raise _Refuse(503, "the receiver's queue is full; retry later")
        self.counts.accepted += decoded.accepted
        self.counts.rejected += decoded.rejected
        body = response(decoded, as_json)
        return web.Response(body=body, content_type=_JSON if as_json else _PROTOBUF)

    async def traces(self, request: web.Request) -> web.StreamResponse:
        return await self._guarded(request, "traces")

    async def logs(self, request: web.Request) -> web.StreamResponse:
        return await self._guarded(request, "logs")

    async def metrics(self, request: web.Request) -> web.StreamResponse:
        return await self._guarded(request, "metrics")


def make_app(receiver: Receiver) -> web.Application:
    app = web.Application(client_max_size=receiver.settings.max_body_bytes)
    app.router.add_post("/v1/traces", receiver.traces)
    app.router.add_post("/v1/logs", receiver.logs)
    app.router.add_post("/v1/metrics", receiver.metrics)
    return app
