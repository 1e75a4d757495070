"""Clock and the timestamp spellings of Sequin and of each upstream."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


# isoformat() rather than strftime(): seeding formats ~30,000 stamps and strftime is 5x slower.
def iso_z(moment: datetime) -> str:
    """Sequin's own stamps: ISO 8601, microseconds, `Z`."""
    return _naive_utc(moment).isoformat(timespec="microseconds") + "Z"


def iso_z_millis(moment: datetime) -> str:
    """HubSpot's spelling of datetime properties."""
    return _naive_utc(moment).isoformat(timespec="milliseconds") + "Z"


def salesforce_datetime(moment: datetime) -> str:
    """Salesforce REST's spelling, e.g. `2024-03-01T12:34:56.000+0000`."""
    return _naive_utc(moment).isoformat(timespec="milliseconds") + "+0000"


def unix_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
