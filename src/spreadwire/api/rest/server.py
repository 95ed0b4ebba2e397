"""Serve the REST app with uvicorn (httptools, on the running loop) inside the node.

uvicorn normally owns the process: it installs signal handlers and runs its own loop.
Here the node owns both, so :class:`RestServer` starts uvicorn on the current loop,
leaves signals alone and stops when asked. ``port=0`` picks a free port (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator
from typing import Any, final

import uvicorn


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the node."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@final
class RestServer:
    """One uvicorn server for an ASGI app; ``await start()``, then ``await stop()``."""

    __slots__ = ("_server", "_task")

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        backlog: int = 2048,
    ) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            loop="none",
            http="httptools",
            ws="none",
            lifespan="off",
            access_log=False,
            log_config=None,
            log_level="warning",
            server_header=False,
            backlog=backlog,
        )
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout_s: float = 10.0) -> None:
        """Bind and start serving; return once the socket accepts connections."""
        server = self._server
        if not server.config.loaded:
            server.config.load()
        server.lifespan = server.config.lifespan_class(server.config)
        where = f"{server.config.host}:{server.config.port}"
        try:
            async with asyncio.timeout(timeout_s):
                await server.startup()
        except SystemExit:  # uvicorn exits the process when it cannot bind; the node decides
            raise OSError(f"cannot serve REST on {where} (address in use?)") from None
        if server.should_exit:
            raise OSError(f"cannot serve REST on {where}")
        self._task = asyncio.create_task(server.main_loop(), name="rest-server")

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        sockets = self._server.servers[0].sockets if self._server.servers else ()
        if not sockets:
            raise RuntimeError("the server is not started")
        return int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self._server.config.host}:{self.port}"

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop accepting, finish in-flight requests (bounded by ``timeout_s``), close."""
        if self._task is None:
            return
        server = self._server
        server.should_exit = True
        async with asyncio.timeout(timeout_s):
            await self._task
            await server.shutdown()
        self._task = None
