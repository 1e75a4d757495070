"""Signing in: the sign-in page, throttling's client address, and the sandbox's demo account.

Imports nothing of the other apps; they need nothing of it.
"""

from __future__ import annotations
