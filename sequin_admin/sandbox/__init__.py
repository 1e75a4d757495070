"""A stand-in for Sequin's HTTP API (syncs, records, http-consumers, the Mutation API).

Standard library only, and nothing from Django or the rest of the admin: the admin reaches it
through its HTTP client exactly as it reaches the real Sequin.
"""

from __future__ import annotations
