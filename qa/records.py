"""How qa's values are written to the store and read back: the one place a stored timestamp
becomes a `Timestamp` again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from qa.models import Timestamp


def stamp_to_json(stamp: Timestamp | None) -> dict[str, Any] | None:
    return None if stamp is None else {"moment": stamp.moment.isoformat(),
                                       "date_only": stamp.date_only}


def stamp_from_json(value: dict[str, Any] | None) -> Timestamp | None:
    if value is None:
        return None
    return Timestamp(datetime.fromisoformat(value["moment"]), bool(value["date_only"]))
