"""The public award feed over HTTP: a paginated JSON list, JSON Feed 1.1 and Atom (RFC 4287), all read
from ``awards_public_feed`` (the same records the feed relay publishes as CloudEvents).

Newest first; ``before`` (a sequence number) pages back, ``unit_path`` keeps one subtree.
"""

from collections.abc import Sequence
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.awards.adapters.records import public_feed

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_NS = "http://www.w3.org/2005/Atom"
TITLE = "Khen thưởng công khai — thidua"
STATUS_VI = {"conferred": "Khen thưởng", "revoked": "Thu hồi khen thưởng"}


async def page(conn: AsyncConnection, *, limit: int, before: int | None, unit_path: str | None) -> list[Any]:
    stmt = select(public_feed).order_by(public_feed.c.seq.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(public_feed.c.seq < before)
    if unit_path:
        stmt = stmt.where((public_feed.c.unit_path == unit_path) | public_feed.c.unit_path.like(unit_path + ".%"))
    return list(await conn.execute(stmt))


async def of_award(conn: AsyncConnection, award_id: str) -> list[Any]:
    """One award's public records (its conferral, then its revocation if any), newest first."""
    stmt = select(public_feed).where(public_feed.c.award_id == award_id).order_by(public_feed.c.seq.desc())
    return list(await conn.execute(stmt))


def as_award(award_id: str, rows: Sequence[Any]) -> dict[str, Any]:
    """An award as the feed shows it: where it stands now and its CloudEvents, newest first."""
    return {
        "award_id": award_id,
        "status": rows[0].status,
        "items": [{"seq": row.seq, **row.cloudevent} for row in rows],
    }


def _title(event: dict[str, Any]) -> str:
    d = event["data"]
    return f"{STATUS_VI[d['status']]}: {d['award_name']} — {d['nominee_name']} ({d['unit_name']})"


def _text(event: dict[str, Any]) -> str:
    d = event["data"]
    text = f"{d['award_name']} năm {d['year']}, Quyết định số {d['decision_number']} của {d['deciding_body']}."
    if d["status"] == "revoked":
        text += f" Thu hồi theo Quyết định số {d['revocation_decision_number']}."
    return text + (f" Thành tích: {d['achievement']}" if d.get("achievement") else "")


def as_json(rows: Sequence[Any], *, limit: int, base_url: str) -> dict[str, Any]:
    items = [{"seq": row.seq, **row.cloudevent} for row in rows]
    more = len(rows) == limit
    return {"items": items, "next": f"{base_url}?before={rows[-1].seq}&limit={limit}" if more and rows else None}


def as_json_feed(rows: Sequence[Any], *, limit: int, feed_url: str, home_url: str) -> dict[str, Any]:
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": TITLE,
        "home_page_url": home_url,
        "feed_url": feed_url,
        "language": "vi",
        "items": [
            {
                "id": row.cloudevent["id"],
                "url": f"{home_url}/awards/{row.award_id}",
                "title": _title(row.cloudevent),
                "content_text": _text(row.cloudevent),
                "date_published": row.cloudevent["time"],
                "tags": [row.status, row.cloudevent["data"]["award_code"]],
                "_thidua": row.cloudevent["data"],
            }
            for row in rows
        ],
    }
    if len(rows) == limit and rows:
        feed["next_url"] = f"{feed_url}?before={rows[-1].seq}&limit={limit}"
    return feed


def as_atom(rows: Sequence[Any], *, feed_url: str, home_url: str, updated: str) -> bytes:
    feed = Element("feed", xmlns=ATOM_NS)
    feed.set("xml:lang", "vi")
    SubElement(feed, "id").text = feed_url
    SubElement(feed, "title").text = TITLE
    SubElement(feed, "updated").text = rows[0].cloudevent["time"] if rows else updated
    author = SubElement(feed, "author")
    SubElement(author, "name").text = "thidua"
    SubElement(feed, "link", rel="self", href=feed_url, type="application/atom+xml")
    SubElement(feed, "link", rel="alternate", href=home_url)
    for row in rows:
        event = row.cloudevent
        entry = SubElement(feed, "entry")
        SubElement(entry, "id").text = f"urn:uuid:{event['id']}"
        SubElement(entry, "title").text = _title(event)
        SubElement(entry, "updated").text = event["time"]
        SubElement(entry, "category", term=row.status)
        SubElement(entry, "content", type="text").text = _text(event)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(feed, encoding="utf-8", xml_declaration=False)
