"""Real sandboxes over HTTP on loopback, for any test module.

`running_sandbox(profile)` serves one for a `with` block. `serve_real_sandbox` is the
session-scoped fixture `real_sandbox_server`, serving the "real" profile (answers shaped as a
live Sequin sent them); import it into a conftest to use it there:

    from tests.sandbox.servers import serve_real_sandbox  # noqa: F401  (a fixture)

`sandbox_of_each_profile` is the `sandbox` fixture of a package whose tests run against both
profiles, "docs" and "real", with the admin talking to each in turn; import it beside
`serve_real_sandbox`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import LazySettings

from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN
from sequin_admin.sandbox.server import SandboxServer

PROFILES = ("docs", "real")


@contextmanager
def running_sandbox(profile: str = "docs") -> Iterator[SandboxServer]:
    server = SandboxServer(
        db_path=":memory:", token=DEFAULT_TOKEN, host="127.0.0.1", port=0, profile=profile
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()  # shuts the server down and joins its thread


@contextmanager
def fresh(server: SandboxServer) -> Iterator[SandboxServer]:
    """The server in its freshly seeded state; afterwards no fault left on and no request
    still being answered (so nothing writes after the next test's reset)."""
    server.store.reset()
    try:
        yield server
    finally:
        server.faults.clear()
        server.wait_idle()


@pytest.fixture(scope="session", name="real_sandbox_server")
def serve_real_sandbox() -> Iterator[SandboxServer]:
    """A second sandbox, profile "real", for the whole run."""
    with running_sandbox("real") as server:
        yield server


@pytest.fixture(params=PROFILES, name="sandbox")
def sandbox_of_each_profile(
    request: pytest.FixtureRequest, settings: LazySettings
) -> Iterator[SandboxServer]:
    """The sandbox of each profile in turn, freshly seeded, and the admin talking to it."""
    with fresh(talk_to(request, request.param, settings)) as server:
        yield server


def talk_to(request: pytest.FixtureRequest, profile: str, settings: LazySettings) -> SandboxServer:
    """Point the admin at the session's sandbox of `profile` (for a fixture of `request`)."""
    name = "real_sandbox_server" if profile == "real" else "sandbox_server"
    server: SandboxServer = request.getfixturevalue(name)
    settings.SEQUIN_API_URL = server.url
    return server
