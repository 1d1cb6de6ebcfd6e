"""The public feed's contract: current on disk, and every CloudEvent valid against it with no personal data."""

import json
from pathlib import Path

import jsonschema
import yaml

from services.awards.adapters.public_feed import public_award, public_contract_files, to_cloudevent
from shared.events import EventMetadata, new_envelope
from tests.awards.awards_helpers import HN
from tests.awards.test_awards_domain import conferred

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def test_the_feed_contract_files_are_current() -> None:
    for relative, content in public_contract_files().items():
        on_disk = (CONTRACTS / relative).read_text(encoding="utf-8")
        assert on_disk == content, f"contracts/{relative} is stale: python -m services.awards.adapters.public_feed"


def test_a_public_cloudevent_is_valid_and_carries_only_name_unit_and_award() -> None:
    award = conferred().conferred
    assert award is not None
    event = to_cloudevent(
        new_envelope("proposal-p-1", 20, award, EventMetadata(actor="btv-hn", unit_path=HN.path)), public_award(award)
    )
    files = public_contract_files()
    schema = json.loads(files["public/PublicAward.v1.json"])
    jsonschema.validate(event["data"], schema)
    envelope = yaml.safe_load(files["public-awards.asyncapi.yaml"])["components"]["schemas"]["CloudEvent"]
    jsonschema.validate(
        {**event, "data": {}}, {**envelope, "properties": {**envelope["properties"], "data": {"type": "object"}}}
    )
    assert event["type"] == "vn.thidua.awards.award.conferred.v1" and event["subject"] == "a-1"
    assert event["source"] == "/thidua/awards/hn.ntl.fecon" and event["time"].endswith("Z")
    text = json.dumps(event, ensure_ascii=False)
    for private in ("m-an", "btv-hn", "Kỹ sư thi công", "is_official", "recorded_by"):
        assert private not in text  # member id, actor, job title, internal flags stay inside
    assert event["data"]["nominee_name"] == "Nguyễn Văn An" and event["data"]["decision_number"] == "2150/QĐ-UBND"
