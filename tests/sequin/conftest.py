"""The client's tests run against both sandbox profiles: "docs" (answers as documented) and
"real" (answers as a live Sequin sent them), each a real server over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sequin_admin.sandbox.server import SandboxServer
from tests.sandbox.servers import fresh, serve_real_sandbox  # noqa: F401  (a fixture)
from tests.sequin.peers import Answering, Canned, StubServer

PROFILES = ("docs", "real")


@pytest.fixture(params=PROFILES)
def sandbox(
    request: pytest.FixtureRequest, sandbox_server: SandboxServer
) -> Iterator[SandboxServer]:
    """The sandbox of each profile in turn, freshly seeded, no faults left on."""
    server = sandbox_server
    if request.param == "real":
        server = request.getfixturevalue("real_sandbox_server")
    with fresh(server):
        yield server


@pytest.fixture
def stub() -> Iterator[Callable[[Canned | Answering], StubServer]]:
    """Start stand-in peers; each is stopped at teardown."""
    started: list[StubServer] = []

    def serve(answer: Canned | Answering) -> StubServer:
        started.append(StubServer(answer).start())
        return started[-1]

    yield serve
    for server in started:
        server.stop()
