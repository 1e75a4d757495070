"""The edit loop runs against both sandbox profiles: "docs" (answers as documented) and
"real" (answers as a live Sequin sent them: no version in a mutation's answer, only the
patched fields, `sync{}` objects, opaque cursors, pages capped below what is asked)."""

from __future__ import annotations

from tests.sandbox.servers import (  # noqa: F401  (fixtures)
    sandbox_of_each_profile,
    serve_real_sandbox,
)
