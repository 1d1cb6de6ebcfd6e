"""The registry's part of the demo city: ~300 Vietnamese initiatives across its grassroots unions, in every
state (registered, under review, returned, rejected, recognised, applied, accepted), some escalated to
their district or the city, some replicated. Deterministic (a fixed seed).

A client of the registry's HTTP API (the platform admin's token). The registry learns the units from
the directory's events, so a command about a unit it does not know yet is retried for a while. It does
nothing if initiatives exist already; its Idempotency-Keys make an interrupted load resume.
"""

import asyncio
import random
from datetime import date, timedelta
from typing import Any

import httpx

from demo.city import demo_people, grassroots_paths, send

ACTIONS = ["Ứng dụng", "Số hoá", "Đổi mới", "Cải tiến", "Xây dựng", "Tổ chức", "Triển khai", "Chuẩn hoá"]
SUBJECTS = [
    ("quy trình kết nạp đoàn viên", "Công tác tổ chức"),
    ("sổ theo dõi đoàn viên bằng mã QR", "Công tác tổ chức"),
    ("hộp thư góp ý trực tuyến của người lao động", "Đối thoại, thương lượng"),
    ("mô hình \u201cBữa cơm ca\u201d chất lượng", "Chăm lo đời sống"),
    ("quỹ tương trợ đoàn viên khó khăn", "Chăm lo đời sống"),
    ("bản tin an toàn vệ sinh lao động hằng tuần", "An toàn vệ sinh lao động"),
    ("phần mềm quản lý thu, chi tài chính công đoàn", "Tài chính công đoàn"),
    ("hội thi tay nghề giỏi cho công nhân trẻ", "Thi đua, khen thưởng"),
    ("tủ sách pháp luật lao động tại phân xưởng", "Tuyên truyền, giáo dục"),
    ("nhóm Zalo hỗ trợ pháp lý cho công nhân", "Tuyên truyền, giáo dục"),
    ("lịch đối thoại định kỳ giữa công đoàn và giám đốc", "Đối thoại, thương lượng"),
    ("chương trình \u201cMái ấm công đoàn\u201d", "Chăm lo đời sống"),
    ("khảo sát trực tuyến về tiền lương, thưởng", "Đối thoại, thương lượng"),
    ("góc thư viện điện tử cho đoàn viên", "Tuyên truyền, giáo dục"),
    ("tổ ươm mầm ý tưởng của công đoàn bộ phận", "Thi đua, khen thưởng"),
]
PLACES = ["tại công đoàn cơ sở", "trong khối sản xuất", "tại văn phòng", "cho lao động nữ", "tại các tổ công đoàn"]
PILLARS = ["doi_moi", "sang_tao", "hieu_qua"]
# Where each initiative ends: a weighted lottery over every state of the lifecycle.
FATES = ["registered"] * 4 + ["under_review"] * 2 + ["returned", "rejected"] + ["recognised"] * 4 + ["applied"] * 4
FATES += ["accepted"] * 3 + ["district"] * 2 + ["city"]


def registration_body(rng: random.Random, path: str, n: int) -> dict[str, Any]:
    subject, field = rng.choice(SUBJECTS)
    title = f"{rng.choice(ACTIONS)} {subject} {rng.choice(PLACES)}"
    people = demo_people(path, 4)
    count = rng.choice([1, 1, 2, 3])
    shares = [100] if count == 1 else ([60, 40] if count == 2 else [50, 30, 20])
    return {
        "title": title,
        "objective": f"Nâng cao hiệu quả hoạt động công đoàn: {subject}, giảm thủ tục, tăng sự tham gia của đoàn viên",
        "steps": "Khảo sát thực trạng; xây dựng phương án; thí điểm tại một tổ công đoàn; đánh giá và nhân rộng",
        "scope_of_application": f"Áp dụng {rng.choice(PLACES)}, từ năm {2024 + n % 2}",
        "expected_effectiveness": f"Tiết kiệm khoảng {rng.randint(2, 40) * 10} giờ công mỗi năm",
        "pillar": rng.choice(PILLARS),
        "field": field,
        "authors": [{"name": people[i]["full_name"], "share": shares[i]} for i in range(count)],
        "estimated_benefit_vnd": rng.randint(1, 300) * 1_000_000,
        "first_applied_on": (date(2024, 1, 1) + timedelta(days=rng.randint(0, 600))).isoformat(),
    }


async def _one(registry: httpx.AsyncClient, rng: random.Random, path: str, n: int) -> str:
    fate = rng.choice(FATES)
    key = f"demo:initiative:{path}:{n}"

    async def act(step: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        return await send(registry, url, body, f"{key}:{step}")

    iid = (await act("register", "/initiatives", {"unit_path": path, **registration_body(rng, path, n)}))[
        "initiative_id"
    ]
    if fate == "registered":
        return fate
    score = {
        "scorer_name": "Hội đồng sáng kiến", "novelty": rng.randint(5, 10), "feasibility": rng.randint(5, 10),
        "effectiveness": rng.randint(5, 10), "influence": rng.randint(4, 10),
        "comment": "Đạt yêu cầu, cần lượng hoá thêm",
    }  # fmt: skip
    await act("score", f"/initiatives/{iid}/scores", score)
    if fate == "returned":
        await act("return", f"/initiatives/{iid}/return", {"requests": "Bổ sung số liệu hiệu quả"})
    if fate == "rejected":
        await act("reject", f"/initiatives/{iid}/reject", {"reasons": "Chưa có tính mới"})
    if fate in ("under_review", "returned", "rejected"):
        return fate
    decided = date(2025, 1, 1) + timedelta(days=rng.randint(0, 300))
    decision = {"decision_number": f"{n + 1}/QĐ-CĐCS", "decision_date": decided.isoformat()}
    await act("recognise", f"/initiatives/{iid}/recognise", decision)
    if fate == "recognised":
        return fate
    benefit = rng.randint(1, 500) * 1_000_000
    application = {
        "where": "Toàn đơn vị", "since": decided.isoformat(), "evidence": "Biên bản áp dụng",
        "actual_benefit_vnd": benefit,
    }  # fmt: skip
    await act("apply", f"/initiatives/{iid}/applications", application)
    if fate == "applied":
        return fate
    await act("accept", f"/initiatives/{iid}/accept", {"actual_benefit_vnd": benefit, "note": "Đạt"})
    if fate == "accepted":
        return fate
    await act("escalate", f"/initiatives/{iid}/escalation", {"summary": "Đề nghị công nhận cấp trên"})
    if fate == "city":
        await act("forward", f"/initiatives/{iid}/escalation/forward", {"note": "Trình Thành phố"})
        city_decision = {
            "decision_number": f"{n + 1}/QĐ-LĐLĐ",
            "decision_date": (decided + timedelta(days=60)).isoformat(),
        }
        await act("recognise-city", f"/initiatives/{iid}/recognise", city_decision)
        await act("replicate", f"/initiatives/{iid}/replication", {"note": "Nhân rộng toàn Thành phố"})
    return fate


async def load_initiatives(registry: httpx.AsyncClient, per_unit: int = 12) -> dict[str, int]:
    """Register and walk the demo initiatives; a no-op if the registry holds initiatives already.

    ``registry``: a client of the registry's API carrying the platform admin's bearer token.
    """
    existing = await registry.get("/initiatives", params={"under": "hn", "limit": 1})
    if existing.status_code == 200 and existing.json()["total"]:
        return {}
    rng = random.Random("thidua-demo:registry")
    plan = [(path, n, random.Random(rng.random())) for path in grassroots_paths() for n in range(per_unit)]
    fates: dict[str, int] = {}

    async def unit(path: str) -> None:  # one unit's initiatives in order, the units concurrently
        for p, n, own in plan:
            if p == path:
                fate = await _one(registry, own, path, n)
                fates[fate] = fates.get(fate, 0) + 1

    await asyncio.gather(*(unit(path) for path in grassroots_paths()))
    return fates
