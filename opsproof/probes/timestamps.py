"""AWS answers' timestamps (botocore gives datetimes, aware or not) as reports show them: UTC, ISO 8601."""

import datetime as dt


def iso(v, timespec: str = "seconds") -> str:
    """A datetime as UTC ISO 8601; anything else (None, a string already) as it is."""
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).isoformat(timespec=timespec)
    return str(v or "")


def aware(v) -> dt.datetime | None:
    """A datetime with a time zone (naive ones are UTC); None for anything else."""
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    return None
