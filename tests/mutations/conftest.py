"""History, journal, commands and reconciliation run against both sandbox profiles: "docs"
(answers as documented) and "real" (answers as a live Sequin sent them)."""

from __future__ import annotations

from tests.sandbox.servers import (  # noqa: F401  (fixtures)
    sandbox_of_each_profile,
    serve_real_sandbox,
)
