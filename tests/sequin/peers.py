"""What the client talks to in these tests, besides the sandbox: a tiny HTTP peer on 127.0.0.1
for answers the sandbox cannot give (a 403, a redirect, a JSON error in `text/plain`...),
which records every request it receives; and `client_for`, a client for any such URL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN
from sequin_admin.sequin import SequinClient


@dataclass(frozen=True)
class Canned:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    method: str
    path: str  # the raw request target, query included
    headers: dict[str, str]
    body: bytes


Answering = Callable[[Received], Canned]


class StubServer:
    def __init__(self, answer: Canned | Answering) -> None:
        self.answer: Answering = answer if callable(answer) else (lambda _: answer)
        self.received: list[Received] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Received(
                    method=self.command,
                    path=self.path,
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                )
                stub.received.append(request)
                canned = stub.answer(request)
                self.send_response(canned.status)
                if canned.content_type:
                    self.send_header("Content-Type", canned.content_type)
                self.send_header("Content-Length", str(len(canned.body)))
                for name, value in canned.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(canned.body)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A client's idle keep-alive connection must not hold up stop().
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}"

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def client_for(url: str, **options: Any) -> SequinClient:
    options.setdefault("timeout", (2.0, 5.0))
    return SequinClient(base_url=url, token=DEFAULT_TOKEN, **options)
