"""The public award feed: conferred and revoked awards as CloudEvents 1.0 (structured JSON) for other
agencies, on their own JetStream stream and subjects ``public.awards.<unit path>``.

Only what an agency needs leaves: the nominee's name and unit and the award's fields (``PublicAward``);
never the actor, member ids or anything else about the person. The CloudEvent ``id`` is the stored event's
id and is also the ``Nats-Msg-Id``, so a re-published event is dropped by JetStream inside its duplicate
window and by an agency's own register after it.
"""

from datetime import UTC
from typing import Any

from contracts.awards import AwardConferred, AwardRevoked, PublicAward
from shared.events import EventEnvelope

STREAM = "PUBLIC_AWARDS"
SUBJECT_ROOT = "public.awards"
SUBJECTS = [f"{SUBJECT_ROOT}.>"]
DUPLICATE_WINDOW_SECONDS = 24 * 3600  # a relay that restarts within a day never doubles a message
CONTENT_TYPE = "application/cloudevents+json"
TYPE_PREFIX = "vn.thidua.awards.award"
SCHEMA_BASE = "https://thidua.vn/contracts/public"
PUBLIC_VERSION = 1
TYPES = {
    "AwardConferred": f"{TYPE_PREFIX}.conferred.v{PUBLIC_VERSION}",
    "AwardRevoked": f"{TYPE_PREFIX}.revoked.v{PUBLIC_VERSION}",
}
DATASCHEMA = f"{SCHEMA_BASE}/PublicAward.v{PUBLIC_VERSION}.json"


def public_subject(unit_path: str) -> str:
    return f"{SUBJECT_ROOT}.{unit_path}"


def public_award(event: AwardConferred | AwardRevoked, conferred: AwardConferred | None = None) -> PublicAward:
    """The public record of a conferral, or of a revocation (with the conferral it annuls when known)."""
    if isinstance(event, AwardConferred):
        d = event.decision
        return PublicAward(
            award_id=event.award_id,
            status="conferred",
            nominee_kind=event.nominee.kind,
            nominee_name=event.nominee.name,
            unit_name=event.nominee.unit_name,
            unit_path=event.nominee.unit_path,
            award_code=event.award_code,
            award_name=event.award_name,
            form=event.form,
            is_title=event.is_title,
            track=event.track,
            year=event.year,
            achievement=event.achievement.summary,
            decision_number=d.number,
            decided_on=d.decided_on,
            deciding_body=d.deciding_body,
            deciding_level=d.level.kind,
            early_raise_months=event.early_raise_months,
        )
    base = public_award(conferred) if conferred is not None else None
    return PublicAward(
        award_id=event.award_id,
        status="revoked",
        nominee_kind=event.nominee.kind,
        nominee_name=event.nominee.name,
        unit_name=event.nominee.unit_name,
        unit_path=event.nominee.unit_path,
        award_code=event.award_code,
        award_name=event.award_name,
        form=base.form if base else "",
        is_title=base.is_title if base else False,
        track=base.track if base else "union",
        year=event.year,
        achievement=base.achievement if base else "",
        decision_number=base.decision_number if base else "",
        decided_on=base.decided_on if base else event.decision.decided_on,
        deciding_body=base.deciding_body if base else event.decision.deciding_body,
        deciding_level=base.deciding_level if base else event.decision.level.kind,
        early_raise_months=base.early_raise_months if base else None,
        revocation_reason=event.reason,
        revocation_decision_number=event.decision.number,
        revoked_on=event.decision.decided_on,
    )


def to_cloudevent(envelope: EventEnvelope, data: PublicAward) -> dict[str, Any]:
    """Structured-mode CloudEvent: required ``id``/``source``/``specversion``/``type`` and the optional
    ``subject``/``time``/``datacontenttype``/``dataschema``."""
    return {
        "specversion": "1.0",
        "id": envelope.event_id,
        "source": f"/thidua/awards/{data.unit_path}",
        "type": TYPES[envelope.event_type],
        "subject": data.award_id,
        "time": envelope.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "dataschema": DATASCHEMA,
        "data": data.model_dump(mode="json"),
    }


# -- the contract of the feed (contracts/public-awards.asyncapi.yaml, contracts/public/*.json) ------------


def public_contract_files() -> dict[str, str]:
    """The feed's contract files, relative to ``contracts/``: the data schema and the AsyncAPI document."""
    import json

    import yaml  # a dev dependency, as for the platform's own contracts

    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": DATASCHEMA,
        **PublicAward.model_json_schema(),
    }
    cloudevent = {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {
                "type": "string",
                "description": "Unique per event; equals Nats-Msg-Id. Drop a repeated source + id.",
            },
            "source": {"type": "string", "format": "uri-reference", "examples": ["/thidua/awards/hn.ntl.fecon"]},
            "type": {"enum": sorted(TYPES.values())},
            "subject": {"type": "string", "description": "The award id: a revocation names the award it annuls."},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "dataschema": {"const": DATASCHEMA},
            "data": {"$ref": f"./public/PublicAward.v{PUBLIC_VERSION}.json"},
        },
    }
    asyncapi = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "thidua public award feed",
            "version": f"{PUBLIC_VERSION}.0.0",
            "description": (
                "Conferred and revoked awards for other agencies (emulation and reward boards, HR systems, the "
                "national database, the union press), as CloudEvents 1.0 in structured JSON mode (NATS protocol "
                f"binding) on the JetStream stream {STREAM}. Published at least once from the awards service's "
                "store and deduplicated (Nats-Msg-Id = CloudEvent id; keep your own register of ids for exactly "
                "once). No personal data beyond the nominee's name, unit and award. The same records are readable "
                "over HTTP as a paginated JSON feed, JSON Feed 1.1 and Atom (see the awards OpenAPI). Generated by "
                "services.awards.adapters.public_feed; do not edit by hand."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {"city": {"host": "nats:4222", "protocol": "nats", "description": "The city's NATS cluster."}},
        "channels": {
            "publicAwards": {
                "address": f"{SUBJECT_ROOT}.{{unitPath}}",
                "title": "Public awards of a unit",
                "description": "Subscribe to public.awards.> for everything, or public.awards.<path>.> for a subtree.",
                "parameters": {"unitPath": {"description": "The nominee's unit path, e.g. hn.ntl.fecon."}},
                "messages": {
                    name: {"$ref": f"#/components/messages/{name}"} for name in ("AwardConferred", "AwardRevoked")
                },
            }
        },
        "operations": {
            "publishPublicAwards": {
                "action": "send",
                "summary": "The awards service publishes each conferral and revocation once it is stored.",
                "channel": {"$ref": "#/channels/publicAwards"},
                "messages": [
                    {"$ref": f"#/channels/publicAwards/messages/{name}"} for name in ("AwardConferred", "AwardRevoked")
                ],
            }
        },
        "components": {
            "schemas": {"CloudEvent": cloudevent},
            "messages": {
                name: {
                    "name": name,
                    "title": f"{TYPES[name]}",
                    "contentType": CONTENT_TYPE,
                    "headers": {
                        "type": "object",
                        "required": ["Nats-Msg-Id"],
                        "properties": {"Nats-Msg-Id": {"type": "string", "description": "The CloudEvent id."}},
                    },
                    "payload": {
                        "allOf": [
                            {"$ref": "#/components/schemas/CloudEvent"},
                            {"properties": {"type": {"const": TYPES[name]}}},
                        ]
                    },
                }
                for name in ("AwardConferred", "AwardRevoked")
            },
        },
    }
    return {
        f"public/PublicAward.v{PUBLIC_VERSION}.json": json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False)
        + "\n",
        "public-awards.asyncapi.yaml": yaml.safe_dump(asyncapi, sort_keys=False, allow_unicode=True, width=110),
    }


if __name__ == "__main__":  # python -m services.awards.adapters.public_feed: write the feed's contract files
    from pathlib import Path

    out = Path(__file__).resolve().parents[3] / "contracts"
    for relative, content in public_contract_files().items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_text(content, encoding="utf-8", newline="\n")
        print(f"wrote contracts/{relative}")
