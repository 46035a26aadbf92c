"""The PBX's listening socket, which a fault closes and reopens on the same port."""

import asyncio
import socket
import ssl

from aiohttp import web


class Listener:
    """Serve an aiohttp application on a socket that can go away and come back at once."""

    def __init__(self, ssl_context: ssl.SSLContext | None) -> None:
        """Serve over TLS with ``ssl_context``, else plain HTTP; nothing listens yet."""
        self._ssl_context = ssl_context
        self._address = ("", 0)
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self._pending_sock: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(
        self, runner: web.AppRunner, host: str, port: int, *, down: bool
    ) -> int:
        """Bind (a free port when 0) and serve unless ``down``; return the port."""
        self._runner = runner
        sock = socket.create_server((host, port))
        self._address = (host, sock.getsockname()[1])
        if down:
            sock.close()
        else:
            self._pending_sock = sock
            await self._serve()
        return self._address[1]

    async def stop(self) -> None:
        """Stop listening for good (switching no longer reopens it)."""
        self._runner = None
        await self.settled()
        self._close()

    async def settled(self) -> None:
        """Return once a reopened socket serves requests."""
        await asyncio.gather(*self._tasks)

    def switch(self, down: bool) -> None:
        """Close or reopen the socket at once; going down drops every connection too."""
        if self._runner is None:
            return  # not started (start() honours the switch) or stopping
        if down:
            self._close()
            if self._runner.server is not None:
                for connection in self._runner.server.connections:
                    connection.force_close()
            return
        # Listening starts now; the kernel queues connections until _serve accepts them.
        self._pending_sock = socket.create_server(self._address)
        task = asyncio.get_running_loop().create_task(self._serve())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self) -> None:
        """Hand the pending listening socket to aiohttp."""
        sock, self._pending_sock = self._pending_sock, None
        if sock is None:
            return  # went down again before this ran
        handler = self._runner.server if self._runner is not None else None
        if handler is None:
            sock.close()  # stopped before this ran
            return
        self._server = await asyncio.get_running_loop().create_server(
            handler, sock=sock, ssl=self._ssl_context, start_serving=False
        )
        await self._server.start_serving()

    def _close(self) -> None:
        """Stop listening, whether aiohttp already serves the socket or not."""
        if self._pending_sock is not None:
            self._pending_sock.close()
            self._pending_sock = None
        if self._server is not None:
            self._server.close()
            self._server = None
