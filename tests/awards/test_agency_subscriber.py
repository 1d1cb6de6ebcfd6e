"""The example agency subscriber (faststream) on a real nats-server: a conferral and its revocation
arrive exactly once each, through duplicates and the subscriber's own restart."""

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import nats
from nats.js.api import StreamConfig

from services.awards.adapters.public_feed import (
    CONTENT_TYPE,
    DUPLICATE_WINDOW_SECONDS,
    STREAM,
    SUBJECTS,
    public_award,
    public_subject,
    to_cloudevent,
)
from services.awards.domain.rules import level_of
from shared.events import EventMetadata, new_envelope
from tests.awards.awards_helpers import BTV_HN, HN, decision
from tests.awards.test_awards_domain import conferred
from tests.natsserver import NatsServer

REPO = Path(__file__).resolve().parents[2]


def _start(url: str, db: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"AGENCY_NATS_URL": url, "AGENCY_DB": str(db), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "examples.agency_subscriber"],
        cwd=db.parent,  # never the repository: whatever it writes stays in the test's folder
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _rows(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []


async def _wait_for(db: Path, sql: str, expected: list[tuple]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _rows(db, sql) == expected:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{sql} gave {_rows(db, sql)}, expected {expected}")


async def test_the_agency_receives_a_conferral_and_its_revocation_exactly_once(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    p = conferred()
    award = p.conferred
    assert award is not None
    meta = EventMetadata(actor="btv-hn", unit_path=HN.path)
    conferral = new_envelope("proposal-p-1", 20, award, meta)
    revoked, _ = p.revoke(
        BTV_HN, "forged_evidence", "Giấy xác nhận giả mạo", decision(level_of(HN), "30/QĐ-UBND", date(2026, 3, 2))
    )
    revocation = new_envelope("proposal-p-1", 22, revoked, meta)

    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    await js.add_stream(StreamConfig(name=STREAM, subjects=SUBJECTS, duplicate_window=DUPLICATE_WINDOW_SECONDS))

    async def publish(envelope, data, msg_id: str | None = None) -> None:  # type: ignore[no-untyped-def]
        event = to_cloudevent(envelope, data)
        headers = {"Nats-Msg-Id": msg_id or event["id"], "Content-Type": CONTENT_TYPE}
        await js.publish(public_subject(data.unit_path), json.dumps(event).encode(), headers=headers)

    db = tmp_path / "agency.db"
    await publish(conferral, public_award(award))
    await publish(conferral, public_award(award))  # a relay retry: JetStream drops it
    agency = _start(nats_server.url, db)
    try:
        await _wait_for(
            db, "SELECT award_id, status, nominee_name FROM awards", [("a-1", "conferred", "Nguyễn Văn An")]
        )
        os.kill(agency.pid, signal.SIGKILL)  # the agency's process dies
        agency.wait(10)
        # Beyond JetStream's window a re-published event is a new message: the register drops it.
        await publish(conferral, public_award(award), msg_id="re-published-after-the-window")
        await publish(revocation, public_award(revoked, award))
        agency = _start(nats_server.url, db)
        await _wait_for(
            db, "SELECT award_id, status, revocation_decision_number FROM awards", [("a-1", "revoked", "30/QĐ-UBND")]
        )
        await _wait_for(db, "SELECT COUNT(*) FROM received", [(2,)])
        await asyncio.sleep(1.5)  # time for any stray redelivery to show up
        assert _rows(db, "SELECT type FROM received ORDER BY type") == [
            ("vn.thidua.awards.award.conferred.v1",),
            ("vn.thidua.awards.award.revoked.v1",),
        ]
        deadline = time.monotonic() + 30  # everything, the ignored re-publication too, is acknowledged
        while True:
            info = await js.consumer_info(STREAM, "agency-register")
            if (info.num_ack_pending, info.num_pending) == (0, 0) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert (info.num_ack_pending, info.num_pending) == (0, 0)
        assert info.delivered.stream_seq == 3  # three messages: the relay's retry was dropped by JetStream
    finally:
        agency.terminate()
        agency.wait(10)
        await client.close()


def test_importing_the_subscriber_writes_no_file(tmp_path: Path) -> None:
    """The register opens when the subscriber starts, and by default in a data folder, never the working
    directory (an ``agency.db`` once landed at the repository's root)."""
    env = {k: v for k, v in os.environ.items() if k not in ("AGENCY_DB", "THIDUA_DATA_DIR")}
    code = "import examples.agency_subscriber.app as a; print(a.DB_PATH)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env | {"PYTHONPATH": str(REPO)}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(Path("data") / "agency" / "agency.db")
    assert list(tmp_path.iterdir()) == []
