"""How qa's values are written to the store and read back, in one place: a stored timestamp,
an article's record and its updates' records (`to_row` / `from_row`), and the stable id of a
section (`sid`: "body" or "update@<UTC iso time>") against the `SectionRef` readers see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from qa.models import SectionRef, Timestamp

BODY = "body"


def stamp_to_json(stamp: Timestamp | None) -> dict[str, Any] | None:
    return None if stamp is None else {"moment": stamp.moment.isoformat(),
                                       "date_only": stamp.date_only,
                                       "zone_stated": stamp.zone_stated}


def stamp_from_json(value: dict[str, Any] | None) -> Timestamp | None:
    if value is None:
        return None
    # stored before newsqa recorded it: the zone is taken as stated, as it was shown then
    return Timestamp(datetime.fromisoformat(value["moment"]), bool(value["date_only"]),
                     bool(value.get("zone_stated", True)))


def update_sid(stamp: Timestamp) -> str:
    """An update is known by its moment in UTC: the same moment written with another offset is
    the same update."""
    return f"update@{stamp.moment.astimezone(UTC).isoformat()}"


@dataclass(frozen=True)
class UpdateRecord:
    """One stored update of an article: its section id, time, the hash of its text, and the key
    that recognises a repost of the same text (qa.ids.text_key; None in records from before)."""

    sid: str
    published_at: Timestamp
    hash: str
    key: str | None = None

    def to_row(self) -> dict[str, Any]:
        row = {"sid": self.sid, "published_at": stamp_to_json(self.published_at),
               "hash": self.hash}
        return row if self.key is None else {**row, "key": self.key}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> UpdateRecord:
        stamp = stamp_from_json(row["published_at"])
        assert stamp is not None, "updates always have a time"
        key = row.get("key")
        return cls(str(row["sid"]), stamp, str(row["hash"]), None if key is None else str(key))


@dataclass(frozen=True)
class ArticleRecord:
    """What is stored about an article besides its texts: `body_hash` is None when it has no
    body; `updates` are in time order."""

    id: str
    title: str
    url: str | None
    source: str | None
    published_at: Timestamp | None
    body_hash: str | None
    updates: tuple[UpdateRecord, ...]

    def to_row(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "url": self.url, "source": self.source,
                "published_at": stamp_to_json(self.published_at), "body_hash": self.body_hash,
                "updates": [u.to_row() for u in self.updates]}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ArticleRecord:
        return cls(str(row["id"]), str(row["title"]), row.get("url"), row.get("source"),
                   stamp_from_json(row.get("published_at")), row.get("body_hash"),
                   tuple(UpdateRecord.from_row(u) for u in row.get("updates", [])))

    def section_stamps(self) -> list[tuple[str, Timestamp | None]]:
        """(sid, time) of each stored section, body first."""
        body = [(BODY, self.published_at)] if self.body_hash else []
        return body + [(u.sid, u.published_at) for u in self.updates]

    def section_ref(self, sid: str) -> SectionRef:
        """The section a reader sees for a stored `sid`: the body, or update number n (1-based,
        in time order; None for an sid this record does not hold)."""
        if sid == BODY:
            return SectionRef("body")
        sids = [u.sid for u in self.updates]
        return SectionRef("update", sids.index(sid) + 1 if sid in sids else None)

    def sid_of(self, section: SectionRef) -> str | None:
        """The stored `sid` of `section`, or None when the record has no such update."""
        if section.kind == "body":
            return BODY
        index = (section.index or 0) - 1
        return self.updates[index].sid if 0 <= index < len(self.updates) else None
