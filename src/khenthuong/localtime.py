"""The local time zone of Vietnamese offices: deadlines, working days and decision dates are
counted in it. Below every layer, so rules, services and interfaces share one definition."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_date(moment: datetime) -> date:
    """The local calendar date of an aware `moment`."""
    return moment.astimezone(LOCAL_TZ).date()


def local_today() -> date:
    """Today's date in Việt Nam."""
    return datetime.now(UTC).astimezone(LOCAL_TZ).date()
