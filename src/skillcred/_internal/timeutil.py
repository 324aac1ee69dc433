"""Dates as the VC data model writes them (XML Schema dateTimeStamp), always timezone-aware."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from skillcred.errors import MalformedDocument

_DT = re.compile(
    r"^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
)


def parse_datetime(value: object, *, field: str = "date") -> datetime:
    """Parse an xsd:dateTime; a value without a timezone is read as UTC (and is still valid)."""
    if not isinstance(value, str) or not _DT.match(value):
        raise MalformedDocument(f"{field} {value!r} is not an XML Schema dateTime")
    text = value.replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedDocument(f"{field} {value!r} is not a valid date and time") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def format_datetime(dt: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC, second precision (what credentials carry)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow() -> datetime:
    return datetime.now(UTC)
