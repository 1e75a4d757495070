"""The demo account of the embedded sandbox: it exists only in sandbox mode.

Its password is published (the README, the sign-in page in sandbox mode), so it must never
exist in a database the admin uses against a real Sequin: see `checks.py`.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-sandbox"  # nosec B105 # published on purpose: the sandbox's demo


def demo_account_signs_in(using: str = "default") -> bool:
    """Whether an active user `demo` with the published password exists in that database."""
    user_model = get_user_model()
    users = user_model._default_manager.db_manager(using).filter(
        **{user_model.USERNAME_FIELD: DEMO_USERNAME}, is_active=True
    )
    # hashers.check_password never re-saves the hash, unlike User.check_password.
    return any(check_password(DEMO_PASSWORD, user.password) for user in users)
