"""The PBX's event port for the TCP report method (API v2.0.0).

An application connects, sends the documented login block (`Action: login`,
`Username:`, `Secret:` with the plaintext password, `Version: 2.0.0`, each line
ended by CRLF, then a blank line), and then reads the PBX's events as JSON.

What the documents do not say, the simulator lets a test choose:
- the answer to the login: AMI-style lines (`Response: Success` / `Response:
  Error`), a JSON status (`{"status":"Success"}` / `{"status":"Failed",
  "errno":"20003"}`), or nothing at all (a refused login is then a closed
  connection);
- the framing of events: each JSON object followed by CRLF (also what a peer
  that writes one object per line would see).
"""

import asyncio
from collections.abc import Callable
import contextlib
from enum import StrEnum
import json

# Lines of a login block, at most: a peer that sends more is not logging in.
_MAX_LOGIN_LINES = 16


class LoginAnswer(StrEnum):
    """How the simulated PBX answers a TCP login."""

    AMI = "ami"
    JSON = "json"
    SILENT = "silent"


type LoginCheck = Callable[[str, str, str], str | None]


class TcpEventServer:
    """Accept event-port logins and write events to every logged-in client."""

    def __init__(
        self,
        check_login: LoginCheck,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        answer: LoginAnswer = LoginAnswer.AMI,
    ) -> None:
        """`check_login(source_ip, username, secret)` returns None or the refusing errno."""
        self.host = host
        self.port = port
        self.answer = answer
        self.logins = 0
        self._check_login = check_login
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    @property
    def clients(self) -> int:
        """How many applications are logged in and reading events."""
        return len(self._clients)

    async def start(self) -> None:
        """Listen (a free port when `port` is 0)."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._writer = asyncio.get_running_loop().create_task(self._write_published())

    async def stop(self) -> None:
        """Stop listening and drop every client (events not written yet are dropped)."""
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        self.drop_clients()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    def drop_clients(self) -> None:
        """Close every client's connection (a reboot, a network cut)."""
        for writer in self._clients:
            writer.close()
        self._clients.clear()

    def publish(self, body: bytes) -> None:
        """Queue one event for every logged-in client; they get events in order."""
        self._queue.put_nowait(body)

    async def wait_sent(self) -> None:
        """Return once every published event is written."""
        if self._writer is not None:
            await self._queue.join()

    async def _write_published(self) -> None:
        """Write published events, one after the other."""
        while True:
            body = await self._queue.get()
            try:
                await self.send(body)
            finally:
                self._queue.task_done()

    async def send(self, body: bytes) -> None:
        """Write one event to every logged-in client."""
        for writer in list(self._clients):
            try:
                writer.write(body + b"\r\n")
                await writer.drain()
            except ConnectionError:
                self._clients.discard(writer)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Read one login block, answer it, then keep the connection for events."""
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            fields = await _read_login(reader)
            source_ip = writer.get_extra_info("peername")[0]
            self.logins += 1
            errno = (
                "20009"
                if fields is None or fields.get("action", "").lower() != "login"
                else self._check_login(
                    source_ip, fields.get("username", ""), fields.get("secret", "")
                )
            )
            writer.write(self._answer(errno))
            await writer.drain()
            if errno is not None:
                writer.close()
                return
            self._clients.add(writer)
            # The PBX only writes; it reads until the application hangs up.
            while await reader.read(1024):
                pass
        except ConnectionError, asyncio.IncompleteReadError:
            pass
        finally:
            self._clients.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self._handlers.discard(task)

    def _answer(self, errno: str | None) -> bytes:
        """Write the login answer in the chosen style (nothing when silent)."""
        if self.answer is LoginAnswer.AMI:
            if errno is None:
                return b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
            return b"Response: Error\r\nMessage: Authentication failed\r\n\r\n"
        if self.answer is LoginAnswer.JSON:
            status = (
                {"status": "Success"}
                if errno is None
                else {"status": "Failed", "errno": errno}
            )
            return json.dumps(status).encode() + b"\r\n"
        return b""


async def _read_login(reader: asyncio.StreamReader) -> dict[str, str] | None:
    """Read `Key: value` lines up to a blank line; None for anything else."""
    fields: dict[str, str] = {}
    for _ in range(_MAX_LOGIN_LINES):
        line = (await reader.readline()).decode(errors="replace").strip()
        if not line:
            return fields or None
        key, separator, value = line.partition(":")
        if not separator:
            return None
        fields[key.strip().lower()] = value.strip()
    return None
