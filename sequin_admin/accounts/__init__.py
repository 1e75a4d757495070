"""Accounts: the sandbox's demo account, kept out of an admin that talks to a real Sequin.

Imports nothing of the other apps; they need nothing of it.
"""

from __future__ import annotations
