"""The sandbox's demo account (published password) never opens an admin on a real Sequin."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

from sequin_admin.accounts.demo import DEMO_PASSWORD, DEMO_USERNAME
from tests.environment import PRODUCTION, ROOT, settings_values


def test_the_sandbox_admin_and_the_real_admin_never_share_a_default_database() -> None:
    sandbox = settings_values("DATABASES")["DATABASES"]["default"]["NAME"]
    real = settings_values("DATABASES", **PRODUCTION)["DATABASES"]["default"]["NAME"]
    assert sandbox == str(ROOT / "var" / "sandbox-admin.sqlite3")
    assert real == str(ROOT / "var" / "db.sqlite3")


@pytest.fixture
def demo(db: None) -> User:
    return User.objects.create_user(DEMO_USERNAME, password=DEMO_PASSWORD, is_staff=True)


def test_the_demo_account_stops_migrate_when_talking_to_a_real_sequin(
    demo: User, settings: LazySettings
) -> None:
    settings.SEQUIN_SANDBOX_MODE = False
    with pytest.raises(SystemCheckError, match=r"accounts\.E001"):
        call_command("check", "--database", "default")
    with pytest.raises(SystemCheckError, match=r"accounts\.E001"):
        call_command("migrate", "--check", verbosity=0, skip_checks=False)


def test_the_demo_account_is_fine_in_the_sandbox(demo: User) -> None:
    call_command("check", "--database", "default")


def test_a_demo_user_with_its_own_password_is_fine(demo: User, settings: LazySettings) -> None:
    settings.SEQUIN_SANDBOX_MODE = False
    demo.set_password("a-private-long-password")
    demo.save()
    call_command("check", "--database", "default")


def test_ensure_demo_user_refuses_outside_the_sandbox(db: None, settings: LazySettings) -> None:
    settings.SEQUIN_SANDBOX_MODE = False
    with pytest.raises(CommandError, match="only with the embedded sandbox"):
        call_command("ensure_demo_user")
    assert not User.objects.filter(username=DEMO_USERNAME).exists()


def test_ensure_demo_user_prints_where_the_admin_is_served(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("ensure_demo_user", "--url", "http://127.0.0.1:8123/")
    assert "Sign in at http://127.0.0.1:8123/ as demo / demo-sandbox" in capsys.readouterr().out
    demo = User.objects.get(username=DEMO_USERNAME)
    assert demo.check_password(DEMO_PASSWORD)
    # It may do everything in the sandbox, grants included, without a grant of its own.
    assert demo.is_superuser and demo.is_staff
