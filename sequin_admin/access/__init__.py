"""Who may do what where: roles granted to users and groups on syncs and collections.

Sits between `sequin` and `records`: it imports none of records, mutations or edits, so every
layer above can check grants. See `decorators.role_required` for the views and
`commands` for the management commands.
"""

from __future__ import annotations
