from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN
from sequin_admin.sandbox.server import SandboxServer
from tests.sandbox.servers import fresh, serve_real_sandbox  # noqa: F401  (a fixture)

TIMEOUT = (2.0, 10.0)


class Api:
    """A bare HTTP client for the sandbox: real requests, no admin code in between."""

    def __init__(self, url: str, token: str | None = DEFAULT_TOKEN) -> None:
        self.url = url
        self.session = requests.Session()
        # Loopback only: a proxy configured in the environment must not intercept.
        self.session.trust_env = False
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.url + path, params=params, timeout=TIMEOUT)

    def post(self, path: str, payload: Any = None) -> requests.Response:
        return self.session.post(self.url + path, json=payload, timeout=TIMEOUT)

    def delete(self, path: str) -> requests.Response:
        return self.session.delete(self.url + path, timeout=TIMEOUT)

    def mutate(self, **body: Any) -> requests.Response:
        return self.post("/v1/mutations/run", body)

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[Api]:
    client = Api(sandbox.url)
    yield client
    client.close()


@pytest.fixture
def make_api(sandbox: SandboxServer) -> Iterator[Callable[[str | None], Api]]:
    """Clients with another token (or none at all)."""
    made: list[Api] = []

    def make(token: str | None) -> Api:
        made.append(Api(sandbox.url, token))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def real_sandbox(real_sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The "real" profile's sandbox, freshly seeded, no faults left on."""
    with fresh(real_sandbox_server):
        yield real_sandbox_server


@pytest.fixture
def real_api(real_sandbox: SandboxServer) -> Iterator[Api]:
    client = Api(real_sandbox.url)
    yield client
    client.close()
