"""A tiny web server on 127.0.0.1 answering API calls with fixed JSON.

For answers the simulator never gives (errno 30003, 20000, odd JSON), and to
record exactly what the client sends.
"""

from dataclasses import dataclass
import json
from typing import Any, Self

from aiohttp import web


@dataclass(frozen=True, slots=True)
class CannedRequest:
    """One API call the server received."""

    version: str
    endpoint: str
    query: dict[str, str]
    body: Any


class CannedPBX:
    """Answers `POST /api/{version}/{endpoint}` from a table; unknown calls get HTTP 404."""

    def __init__(self) -> None:
        """Start with no answers; `answer` fills the table."""
        self.requests: list[CannedRequest] = []
        self._answers: dict[str, tuple[int, bytes]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    def answer(
        self,
        endpoint: str,
        body: Any = None,
        *,
        version: str | None = None,
        status: int = 200,
        text: str | bytes | None = None,
    ) -> None:
        """Answer `endpoint` (of one `version`, or of every version) with JSON `body` or raw `text`."""
        key = f"{version}/{endpoint}" if version else endpoint
        raw = json.dumps(body) if text is None else text
        self._answers[key] = (status, raw.encode() if isinstance(raw, str) else raw)

    def requests_to(self, endpoint: str) -> list[CannedRequest]:
        """Return the calls received for one endpoint, in order."""
        return [request for request in self.requests if request.endpoint == endpoint]

    async def _handle(self, request: web.Request) -> web.Response:
        version = request.match_info["version"]
        endpoint = request.match_info["endpoint"]
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        self.requests.append(
            CannedRequest(version, endpoint, dict(request.query), body)
        )
        found = self._answers.get(f"{version}/{endpoint}") or self._answers.get(
            endpoint
        )
        if found is None:
            return web.Response(status=404, text="404: Not Found")
        status, answer = found
        return web.Response(status=status, body=answer, content_type="application/json")

    async def __aenter__(self) -> Self:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/api/{version}/{endpoint:.+}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
