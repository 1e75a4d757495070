"""The sandbox over real HTTP on loopback: a threaded stdlib server in a daemon thread."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from sequin_admin.sandbox.api import Handled, SandboxApi
from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN
from sequin_admin.sandbox.faults import FaultSwitch
from sequin_admin.sandbox.profiles import profile_named
from sequin_admin.sandbox.responses import summary_error
from sequin_admin.sandbox.store import Store

logger = logging.getLogger("sequin_admin.sandbox")


class _HTTPServer(ThreadingHTTPServer):
    # Not daemons: server_close() then waits for answers under way (a `latency` fault's sleep)
    # before the store is closed beneath them.
    daemon_threads = False

    def __init__(self, address: tuple[str, int], api: SandboxApi) -> None:
        self.api = api
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        # Requests being answered; `SandboxServer.wait_idle` waits for none.
        self.in_flight = 0
        self.idle = threading.Condition()
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-answer are routine here (the `drop` fault, timeouts in tests).
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_open_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.open_connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "SequinSandbox/1.0"
    # An idle keep-alive connection gives up its thread after this many seconds.
    timeout = 30

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes; without NODELAY, Nagle's algorithm meets the
        # client's delayed ACK and every keep-alive answer waits ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length", "0").strip() or "0"
        if not length.isdigit():
            return None
        return self.rfile.read(int(length)) if int(length) else b""

    def _serve(self) -> None:
        with self.server.idle:
            self.server.in_flight += 1
        try:
            self._answer()
        finally:
            with self.server.idle:
                self.server.in_flight -= 1
                self.server.idle.notify_all()

    def _answer(self) -> None:
        started = time.monotonic()
        body = self._read_body()
        if body is None:
            self.close_connection = True
            handled = Handled(summary_error(400, "Invalid Content-Length"))
        else:
            handled = self.server.api.handle(
                self.command, self.path, self.headers.get("Authorization"), body
            )
        response = handled.response
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", f"{response.content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        elapsed_ms = (time.monotonic() - started) * 1000
        fault = f" [fault {handled.fault.kind}]" if handled.fault else ""
        status = "dropped" if response.drop else str(response.status)
        # Only the request line is logged: never headers, so never the token.
        logger.info(
            '%s "%s %s" %s %.0fms%s',
            self.client_address[0],
            self.command,
            self.path,
            status,
            elapsed_ms,
            fault,
        )

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _serve logs each request itself, with its duration and any fault.

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class SandboxServer:
    """The stand-in Sequin API. `start()` serves it; `store` and `faults` steer it in tests.

    `profile` picks how answers are shaped: "docs" (the default) as the documentation shows
    them, "real" as a live Sequin sent them (see profiles.py).
    """

    def __init__(
        self,
        db_path: str = "var/sandbox.sqlite3",
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        profile: str = "docs",
    ) -> None:
        self.host = host
        self.port = port
        self.profile = profile_named(profile)
        self.store = Store(db_path)
        self.faults = FaultSwitch()
        self.store.add_reset_hook(self.faults.clear)
        self.api = SandboxApi(self.store, self.faults, token, profile=self.profile)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        self.store.seed_if_empty()
        self._httpd = _HTTPServer((self.host, self.port), self.api)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sequin-sandbox-{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Wait until no request is being answered (a `latency` fault's sleep included), so
        nothing writes to the store after a test has moved on. Raises TimeoutError."""
        httpd = self._httpd
        if httpd is None:
            return
        with httpd.idle:
            if not httpd.idle.wait_for(lambda: httpd.in_flight == 0, timeout=timeout):
                raise TimeoutError(f"{httpd.in_flight} sandbox request(s) still under way")

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_open_connections()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self.store.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
