"""The TCP report method: the application connects to the PBX and reads its events.

A PBX whose *Report Method* is TCP (API v2.0.0) posts no reports over HTTP.
Instead the application connects to a TCP port set on the PBX, sends a login
block with the plaintext API password, and reads JSON events "continuously till
the TCP connection disconnects".

The documents leave open how the PBX answers the login and how it frames the
events, so every reading is accepted: an AMI-style `Response: Success` or
`Response: Error`, a JSON `status`, or no answer at all before the first event;
JSON objects cut out of the byte stream wherever they start and end, with
anything between them (line breaks, header-like lines) skipped.
"""

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
import logging
import socket
from types import TracebackType
from typing import Self

from .client import error_for
from .exceptions import (
    YeastarConnectionError,
    YeastarConnectionRefusedError,
    YeastarError,
    YeastarInvalidAuthError,
    YeastarLoginUnansweredError,
    YeastarResponseError,
    YeastarTimeoutError,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_TCP_PORT = 8333  # seen in third-party code; the documents give none
# Objects larger than this are no event: skipped, and the stream read on.
MAX_EVENT_SIZE = 64 * 1024
# How long the PBX may take to answer the login before events are assumed to follow.
LOGIN_ANSWER_WAIT = 3.0
_READ_SIZE = 16 * 1024


def login_block(username: str, password: str) -> bytes:
    """Return the documented login: four lines and a blank one, CRLF as AMI has it."""
    lines = ("Action: login", f"Username: {username}", f"Secret: {password}")
    return ("\r\n".join((*lines, "Version: 2.0.0")) + "\r\n\r\n").encode()


class EventSplitter:
    """Cut complete JSON objects out of a byte stream.

    Outside an object every byte up to the next `{` is skipped; inside one, braces
    in strings and escaped quotes are told apart, so an object may arrive in any
    number of pieces and several may arrive in one. An object larger than
    MAX_EVENT_SIZE is read to its end and dropped.
    """

    def __init__(self) -> None:
        """Start outside any object."""
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer already looked at
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._oversized = False

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next bytes; return the objects they completed, in order."""
        self._buffer += data
        found: list[bytes] = []
        index = self._scanned
        buffer = self._buffer
        while index < len(buffer):
            byte = buffer[index]
            index += 1
            if self._depth == 0:
                if byte == 0x7B:  # "{" opens the next object
                    del buffer[: index - 1]
                    index = 1
                    self._depth = 1
                continue
            if self._in_string:
                if self._escaped:
                    self._escaped = False
                elif byte == 0x5C:  # backslash
                    self._escaped = True
                elif byte == 0x22:  # quote
                    self._in_string = False
            elif byte == 0x22:
                self._in_string = True
            elif byte == 0x7B:
                self._depth += 1
            elif byte == 0x7D:  # "}"
                self._depth -= 1
                if self._depth == 0:
                    if not self._oversized:
                        found.append(bytes(buffer[:index]))
                    self._oversized = False
                    del buffer[:index]
                    index = 0
            if self._depth and index > MAX_EVENT_SIZE:
                if not self._oversized:
                    _LOGGER.debug("Skipping an event over %s bytes", MAX_EVENT_SIZE)
                self._oversized = True
                del buffer[:index]
                index = 0
        if self._depth == 0:
            buffer.clear()  # nothing but what lies between objects
            index = 0
        self._scanned = index
        return found


class YeastarEventLink:
    """One TCP connection to the PBX's event port, logged in, yielding event bodies.

    `async with` connects and logs in; `events()` yields each event's JSON body
    until the PBX closes the connection (YeastarConnectionError). A refused login
    raises YeastarInvalidAuthError: the password is not sent again by this link.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str,
        password: str,
        timeout: float = 10.0,
        answer_wait: float = LOGIN_ANSWER_WAIT,
    ) -> None:
        """Describe the event port; nothing is sent until entered."""
        self.host = host
        self.port = port
        self._username = username
        self._password = password
        self._timeout = timeout
        self._answer_wait = answer_wait
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._splitter = EventSplitter()
        self._pending: list[bytes] = []

    async def __aenter__(self) -> Self:
        """Connect and log in."""
        try:
            await self._connect()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the connection."""
        await self.close()

    async def _connect(self) -> None:
        """Open the connection, send the login block, read the answer if one comes."""
        try:
            async with asyncio.timeout(self._timeout):
                self._reader, self._writer = await asyncio.open_connection(
                    self.host, self.port
                )
        except TimeoutError:
            raise YeastarTimeoutError("The PBX's event port did not answer") from None
        except ConnectionRefusedError:
            raise YeastarConnectionRefusedError(
                "The PBX refused the connection to its event port"
            ) from None
        except OSError:
            raise YeastarConnectionError(
                "Could not connect to the PBX's event port"
            ) from None
        _keep_alive(self._writer)
        self._writer.write(login_block(self._username, self._password))
        try:
            await self._writer.drain()
            async with asyncio.timeout(self._answer_wait):
                first = await self._reader.read(_READ_SIZE)
        except TimeoutError:
            return  # no answer: the PBX sends events when there are some
        except OSError:
            raise YeastarConnectionError(
                "The PBX's event port closed the connection"
            ) from None
        if not first:
            raise YeastarLoginUnansweredError(
                "The PBX closed its event port right after the login"
            )
        self._pending = self._read_login_answer(first)

    def _read_login_answer(self, data: bytes) -> list[bytes]:
        """Check the login answer; return the events that came with it."""
        text = data.lstrip()
        if text[:9].lower() == b"response:":
            head, _, rest = text.partition(b"\n")
            if head.split(b":", 1)[1].strip().lower() != b"success":
                raise YeastarInvalidAuthError(
                    "20003", "The PBX refused the login to its event port"
                )
            return self._splitter.feed(rest)
        events = self._splitter.feed(data)
        if events and (status := _status(events[0])) is not None:
            if status[0] != "success":
                raise _refusal(status[1])
            return events[1:]
        return events

    async def events(self) -> AsyncIterator[bytes]:
        """Yield event bodies until the connection ends; then raise YeastarConnectionError."""
        assert self._reader is not None
        while self._pending:
            yield self._pending.pop(0)
        while True:
            try:
                data = await self._reader.read(_READ_SIZE)
            except OSError:
                raise YeastarConnectionError(
                    "The connection to the PBX's event port failed"
                ) from None
            if not data:
                raise YeastarConnectionError(
                    "The PBX closed the connection to its event port"
                )
            for body in self._splitter.feed(data):
                yield body

    async def close(self) -> None:
        """Close the connection (no logout exists for it)."""
        if (writer := self._writer) is None:
            return
        self._writer = None
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _status(body: bytes) -> tuple[str, str] | None:
    """Return (status, errno) of a JSON login answer, None for an event."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict) or "status" not in answer:
        return None
    if "event" in answer or "action" in answer:
        return None  # an event that carries a status (sms-send, say)
    return str(answer["status"]).strip().lower(), str(answer.get("errno", "")).strip()


def _refusal(errno: str) -> YeastarError:
    """Return the error of a refused login: the documented errno, else a refused password."""
    error = error_for(errno)
    if isinstance(error, YeastarResponseError):
        return YeastarInvalidAuthError(
            "20003", "The PBX refused the login to its event port"
        )
    return error


def _keep_alive(writer: asyncio.StreamWriter) -> None:
    """Have the system probe an idle connection, so a dead PBX is noticed."""
    sock: socket.socket | None = writer.get_extra_info("socket")
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (
        ("TCP_KEEPIDLE", 60),
        ("TCP_KEEPINTVL", 15),
        ("TCP_KEEPCNT", 4),
    ):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
