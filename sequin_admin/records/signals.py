"""What the index tells the layers above it, without importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent when a refresh has listed a collection to its end: the index now holds what Sequin
# holds. Keyword arguments: `sync_id`, `collection_id`. The journal settles its unknown
# outcomes on it.
collection_refreshed = Signal()
