"""The edit loop runs against both sandbox profiles: "docs" (answers as documented) and
"real" (answers as a live Sequin sent them: no version in a mutation's answer, only the
patched fields, `sync{}` objects, opaque cursors, pages capped below what is asked)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import LazySettings

from sequin_admin.sandbox.server import SandboxServer
from tests.sandbox.servers import fresh, serve_real_sandbox  # noqa: F401  (a fixture)

PROFILES = ("docs", "real")


@pytest.fixture(params=PROFILES)
def sandbox(
    request: pytest.FixtureRequest, sandbox_server: SandboxServer, settings: LazySettings
) -> Iterator[SandboxServer]:
    """The sandbox of each profile in turn, freshly seeded, and the admin talking to it."""
    server = sandbox_server
    if request.param == "real":
        server = request.getfixturevalue("real_sandbox_server")
    settings.SEQUIN_API_URL = server.url
    with fresh(server):
        yield server
