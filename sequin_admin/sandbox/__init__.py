"""A stand-in for Sequin's HTTP API (syncs, records, HTTP and Postgres consumers, the Mutation
API), answering in one of two profiles: "docs", shaped as the documentation shows, or "real",
shaped as a live Sequin answered (see profiles.py).

Standard library only, and nothing from Django or the rest of the admin: the admin reaches it
through its HTTP client exactly as it reaches the real Sequin.
"""

from __future__ import annotations
