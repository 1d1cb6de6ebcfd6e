"""`make tokens`: bearer tokens for the demo users of the local run (signed with the local secret)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from shared.auth import issue_token
from shared.settings import Settings

DEMO_USERS = [
    ("admin", "hn", ["admin"], "platform operator (everything)"),
    ("city-standing", "hn", ["standing_committee", "emulation_officer"], "LĐLĐ Thành phố Hà Nội"),
    ("ntl-chair", "hn.ntl", ["chair", "standing_committee"], "LĐLĐ quận Nam Từ Liêm"),
    ("dd-chair", "hn.dd", ["chair", "standing_committee"], "LĐLĐ quận Đống Đa"),
    ("fecon-chair", "hn.ntl.fecon", ["chair", "executive_committee"], "CĐCS Công ty CP Fecon"),
]


def main() -> None:
    settings = Settings()
    for subject, unit, roles, who in DEMO_USERS:
        print(f"# {subject} — {who} — unit {unit}, roles {', '.join(roles)}")
        print(issue_token(settings, subject, unit, roles))
        print()


if __name__ == "__main__":
    main()
