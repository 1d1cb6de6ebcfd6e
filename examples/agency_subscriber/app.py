"""An agency's subscriber to thidua's public award feed, written with faststream.

An emulation-and-reward board or an HR system keeps its own register of awards from the feed:
CloudEvents 1.0 (structured JSON) on the JetStream stream ``PUBLIC_AWARDS``, subjects
``public.awards.<unit path>`` (``contracts/public-awards.asyncapi.yaml``). It needs nothing of thidua's code.

Exactly once, across its own restarts: the durable pull consumer redelivers whatever was not acknowledged,
and the register records each CloudEvent (``source`` + ``id``) in the same SQLite transaction as its effect,
before the message is acknowledged — a redelivered or re-published event changes nothing.

    AGENCY_NATS_URL=nats://127.0.0.1:4322 AGENCY_DB=/var/lib/agency/awards.db \\
        python -m examples.agency_subscriber

The register is opened when the subscriber starts, never on import, at ``AGENCY_DB`` (default
``$THIDUA_DATA_DIR/agency/agency.db``, ``data/`` unless set: a data folder, never the working directory).
"""

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from faststream import FastStream
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub

NATS_URL = os.environ.get("AGENCY_NATS_URL", "nats://127.0.0.1:4222")
DB_PATH = os.environ.get("AGENCY_DB") or str(Path(os.environ.get("THIDUA_DATA_DIR") or "data") / "agency" / "agency.db")
DURABLE = os.environ.get("AGENCY_DURABLE", "agency-register")
SUBJECT = os.environ.get("AGENCY_SUBJECT", "public.awards.>")  # e.g. public.awards.hn.ntl.> for one district
TYPES = ("vn.thidua.awards.award.conferred.v1", "vn.thidua.awards.award.revoked.v1")

log = logging.getLogger("agency")


class Register:
    """The agency's own award register: every CloudEvent once, the award's latest status."""

    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS received (
                source TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, award_id TEXT NOT NULL,
                PRIMARY KEY (source, id));
            CREATE TABLE IF NOT EXISTS awards (
                award_id TEXT PRIMARY KEY, status TEXT NOT NULL, nominee_name TEXT NOT NULL,
                unit_name TEXT NOT NULL, award_name TEXT NOT NULL, decision_number TEXT NOT NULL,
                revocation_decision_number TEXT);
            """
        )

    def record(self, event: dict[str, Any]) -> bool:
        """Apply one CloudEvent; False when it was already applied."""
        if event.get("specversion") != "1.0" or event.get("type") not in TYPES:
            raise ValueError(f"not an award CloudEvent this register understands: {event.get('type')!r}")
        data = event["data"]
        with self.db:  # one transaction: the receipt and its effect
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO received (source, id, type, award_id) VALUES (?, ?, ?, ?)",
                (event["source"], event["id"], event["type"], data["award_id"]),
            )
            if cursor.rowcount == 0:
                return False
            self.db.execute(
                "INSERT INTO awards (award_id, status, nominee_name, unit_name, award_name, decision_number, "
                "revocation_decision_number) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (award_id) DO UPDATE SET "
                "status = excluded.status, revocation_decision_number = excluded.revocation_decision_number",
                (
                    data["award_id"],
                    data["status"],
                    data["nominee_name"],
                    data["unit_name"],
                    data["award_name"],
                    data["decision_number"],
                    data.get("revocation_decision_number"),
                ),
            )
        return True


broker = NatsBroker(NATS_URL)
app = FastStream(broker)
_register: list[Register] = []  # opened at start-up: importing the module writes nothing


@app.on_startup
async def open_register() -> None:  # async: run on the loop thread, where sqlite3 is used
    if not _register:
        _register.append(Register(DB_PATH))


@broker.subscriber(
    SUBJECT,
    stream=JStream(name="PUBLIC_AWARDS", declare=False),  # the platform owns the stream
    durable=DURABLE,
    pull_sub=PullSub(batch_size=20, timeout=1.0),
    config=ConsumerConfig(ack_wait=30, max_deliver=20),
    ack_policy=AckPolicy.NACK_ON_ERROR,
)
async def on_award(event: dict[str, Any]) -> None:
    # faststream decodes the JSON body (content type application/cloudevents+json).
    if _register[0].record(event):
        log.info("recorded %s %s", event["type"], event["data"]["award_id"])
