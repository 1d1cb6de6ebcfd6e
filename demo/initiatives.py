"""The registry's part of the demo city: ~300 Vietnamese initiatives across its grassroots unions, in every
state (registered, under review, returned, rejected, recognised, applied, accepted), some escalated to
their district or the city, some replicated, and a few filed by one union as a copy of another's (the
formalism radar's near-duplicates). Deterministic (a fixed seed).

The half-year self-inspection round (``demo/inspections.py``) lists what was registered from January to
June, so part of the book is entered as paper records of that half-year (only the platform operator gives
a past day): every initiative that went on to an application, and all of the four unions' that claim
everything done in that round (theirs never applied: the facts contradict the claim, and the radar sees
them unapplied). The rest are registered today, for the year's review.

A client of the registry's HTTP API (the platform admin's token). The registry learns the units from
the directory's events, so a command about a unit it does not know yet is retried for a while. It does
nothing if initiatives exist already; its Idempotency-Keys make an interrupted load resume.
"""

import asyncio
import random
from datetime import date, timedelta
from typing import Any

import httpx

from demo.city import UPPER_LEVEL, demo_people, grassroots_paths, send
from demo.inspections import CLAIM_ALL_DONE, round_year

ACTIONS = ["Ứng dụng", "Số hoá", "Đổi mới", "Cải tiến", "Xây dựng", "Tổ chức", "Triển khai", "Chuẩn hoá"]
# (subject, field, what it is for, the steps it takes): each subject has its own words, so two unions'
# initiatives on one theme look alike to the registry (a possible duplicate to review) without being copies.
SUBJECTS = [
    ("quy trình kết nạp đoàn viên", "Công tác tổ chức",
     "rút ngắn thời gian kết nạp và giảm hồ sơ giấy cho người lao động mới vào làm",
     ["lập danh sách lao động chưa vào công đoàn", "gặp từng người tại ca làm việc", "làm mẫu đơn điện tử một trang",
      "trao thẻ đoàn viên ngay trong tháng", "phân công tổ trưởng kèm cặp người mới"]),
    ("sổ theo dõi đoàn viên bằng mã QR", "Công tác tổ chức",
     "tra cứu nhanh hồ sơ, đóng phí và quyền lợi của từng đoàn viên bằng điện thoại",
     ["in mã QR lên thẻ đoàn viên", "nhập dữ liệu từ sổ giấy vào bảng tính", "hướng dẫn tổ trưởng quét mã",
      "đối chiếu danh sách với phòng nhân sự", "cập nhật biến động hằng quý"]),
    ("hộp thư góp ý trực tuyến của người lao động", "Đối thoại, thương lượng",
     "để công nhân phản ánh vướng mắc về ca kíp, bữa ăn, an toàn mà không ngại nêu tên",
     ["dán mã truy cập tại nhà ăn và cổng xưởng", "ban chấp hành đọc và phân loại ý kiến hằng tuần",
      "trả lời công khai trên bảng tin", "chuyển ý kiến về chế độ sang hội nghị đối thoại",
      "thống kê số ý kiến đã giải quyết"]),
    ("mô hình \u201cBữa cơm ca\u201d chất lượng", "Chăm lo đời sống",
     "nâng định lượng và vệ sinh bữa ăn giữa ca, có công nhân cùng giám sát",
     ["khảo sát khẩu vị và mức ăn", "thương lượng với chủ doanh nghiệp nâng suất ăn",
      "lập tổ giám sát bếp ăn gồm công nhân các ca", "kiểm tra nguồn gốc thực phẩm mỗi tháng",
      "tổ chức bữa ăn chung với ban giám đốc"]),
    ("quỹ tương trợ đoàn viên khó khăn", "Chăm lo đời sống",
     "cho đoàn viên vay không lãi khi ốm đau, tai nạn hoặc gia đình gặp hoạn nạn",
     ["xây dựng quy chế quỹ được hội nghị thông qua", "vận động đóng góp tự nguyện theo tháng",
      "xét duyệt khoản vay trong ba ngày", "công khai thu chi mỗi quý", "thăm hỏi tận nhà khi giải ngân"]),
    ("bản tin an toàn vệ sinh lao động hằng tuần", "An toàn vệ sinh lao động",
     "giảm tai nạn và sự cố nhờ nhắc lại các nguy cơ cụ thể của từng vị trí làm việc",
     ["thu thập sự cố và suýt sự cố trong tuần", "viết bản tin ngắn kèm ảnh hiện trường",
      "đọc bản tin đầu ca thứ hai", "treo bảng cảnh báo tại máy móc nguy hiểm",
      "phối hợp với mạng lưới an toàn vệ sinh viên"]),
    ("phần mềm quản lý thu, chi tài chính công đoàn", "Tài chính công đoàn",
     "lập sổ sách, báo cáo quyết toán đúng hạn và công khai tài chính cho đoàn viên",
     ["chọn phần mềm kế toán miễn phí", "chuyển số dư và chứng từ năm trước", "tập huấn kế toán công đoàn",
      "in báo cáo thu chi hằng tháng", "để ủy ban kiểm tra tra cứu trực tiếp"]),
    ("hội thi tay nghề giỏi cho công nhân trẻ", "Thi đua, khen thưởng",
     "khuyến khích công nhân dưới 30 tuổi học nghề và nâng bậc thợ",
     ["chọn nội dung thi sát với dây chuyền", "mời thợ bậc cao làm giám khảo", "tổ chức vòng loại tại tổ sản xuất",
      "thưởng và đề nghị nâng bậc cho người đạt giải", "quay video thao tác mẫu để đào tạo"]),
    ("tủ sách pháp luật lao động tại phân xưởng", "Tuyên truyền, giáo dục",
     "giúp công nhân tự tìm hiểu hợp đồng, tiền lương, bảo hiểm ngay nơi làm việc",
     ["xin sách từ Liên đoàn Lao động cấp trên", "đặt tủ sách cạnh phòng nghỉ ca", "cử người giữ và cho mượn sách",
      "tổ chức buổi hỏi đáp pháp luật mỗi quý", "ghi lại những câu hỏi thường gặp"]),
    ("nhóm Zalo hỗ trợ pháp lý cho công nhân", "Tuyên truyền, giáo dục",
     "trả lời thắc mắc về chế độ, thai sản, nghỉ việc trong ngày, kể cả ngoài giờ hành chính",
     ["lập nhóm theo từng xưởng", "mời cán bộ tư vấn pháp luật tham gia", "ghim các câu trả lời mẫu",
      "chuyển vụ việc phức tạp lên công đoàn cấp trên", "báo cáo số vụ việc đã hỗ trợ"]),
    ("lịch đối thoại định kỳ giữa công đoàn và giám đốc", "Đối thoại, thương lượng",
     "giải quyết kiến nghị của người lao động trước khi thành tranh chấp",
     ["tổng hợp kiến nghị từ các tổ công đoàn", "thống nhất lịch đối thoại hằng quý với giám đốc",
      "ghi biên bản và thời hạn giải quyết", "thông báo kết quả đối thoại tới công nhân",
      "theo dõi việc thực hiện cam kết của doanh nghiệp"]),
    ("chương trình \u201cMái ấm công đoàn\u201d", "Chăm lo đời sống",
     "hỗ trợ đoàn viên chưa có nhà ở ổn định sửa chữa hoặc xây mới nhà",
     ["khảo sát hoàn cảnh nhà ở của đoàn viên", "vận động doanh nghiệp và nhà hảo tâm",
      "bình xét công khai đối tượng hỗ trợ", "giám sát thi công cùng gia đình", "bàn giao nhà trước dịp Tết"]),
    ("khảo sát trực tuyến về tiền lương, thưởng", "Đối thoại, thương lượng",
     "có số liệu thật để thương lượng tăng lương và thưởng cuối năm",
     ["soạn phiếu khảo sát mười câu hỏi", "gửi đường dẫn qua tổ trưởng", "tổng hợp theo bộ phận và thâm niên",
      "đưa kết quả vào phương án thương lượng", "báo cáo lại cho người lao động"]),
    ("góc thư viện điện tử cho đoàn viên", "Tuyên truyền, giáo dục",
     "cho đoàn viên đọc sách, tài liệu nghề nghiệp miễn phí trên điện thoại",
     ["mua bản quyền kho sách điện tử", "cấp tài khoản cho từng đoàn viên", "giới thiệu một cuốn sách mỗi tháng",
      "tổ chức cuộc thi viết cảm nhận", "đo số lượt đọc hằng tháng"]),
    ("tổ ươm mầm ý tưởng của công đoàn bộ phận", "Thi đua, khen thưởng",
     "giúp người lao động biến ý tưởng nhỏ thành sáng kiến được công nhận",
     ["lập hộp ý tưởng tại bộ phận", "cử người hướng dẫn viết hồ sơ", "chọn ý tưởng làm thử trong một tháng",
      "đề nghị hội đồng sáng kiến xét", "khen thưởng ý tưởng được áp dụng"]),
]  # fmt: skip
PLACES = ["tại công đoàn cơ sở", "trong khối sản xuất", "tại văn phòng", "cho lao động nữ", "tại các tổ công đoàn"]
GROUPS = ["tổ sản xuất số 2", "ca đêm", "khối văn phòng", "tổ bảo vệ", "xưởng cơ khí", "khoa nội", "tổ giáo viên",
          "đội thi công", "bộ phận kho vận", "tổ phục vụ"]  # fmt: skip
PILLARS = ["doi_moi", "sang_tao", "hieu_qua"]
# Each union's name without "Công đoàn": an initiative says where it was tried.
WORKPLACES = {
    f"hn.{district}.{code}": name.removeprefix("Công đoàn ")
    for district, _, unions in UPPER_LEVEL
    for code, name, _ in unions
}
# Where each initiative ends: a weighted lottery over every state of the lifecycle.
FATES = ["registered"] * 4 + ["under_review"] * 2 + ["returned", "rejected"] + ["recognised"] * 4 + ["applied"] * 4
FATES += ["accepted"] * 3 + ["district"] * 2 + ["city"]
# Initiatives filed to fill a quota: (the union that files it, the union whose registration it copies, which).
# Registered after every other initiative, so the registry flags the copy, never the original.
COPIES = [
    ("hn.ntl.ceo", "hn.dd.handico", 0),
    ("hn.ntl.ceo", "hn.xd.xd-so-1", 1),
    ("hn.ntl.fecon", "hn.gl.thanh-hung", 0),
    ("hn.cdvc.so-noi-vu", "hn.ntl.hanh-chinh", 2),
]


def registration_body(rng: random.Random, path: str, n: int) -> dict[str, Any]:
    subject, field, purpose, steps = rng.choice(SUBJECTS)
    group = rng.choice(GROUPS)
    title = f"{rng.choice(ACTIONS)} {subject} {rng.choice(PLACES)}"
    people = demo_people(path, 4)
    count = rng.choice([1, 1, 2, 3])
    shares = [100] if count == 1 else ([60, 40] if count == 2 else [50, 30, 20])
    chosen = rng.sample(steps, 3)
    months = rng.randint(2, 9)
    return {
        "title": title,
        "objective": f"{purpose.capitalize()} ở {WORKPLACES.get(path, group)}",
        "steps": f"Bắt đầu từ {group}: " + "; ".join(chosen) + f"; sau {months} tháng đánh giá lại",
        "scope_of_application": f"Áp dụng {rng.choice(PLACES)}, từ năm {2024 + n % 2}",
        "expected_effectiveness": f"Tiết kiệm khoảng {rng.randint(2, 40) * 10} giờ công mỗi năm",
        "pillar": rng.choice(PILLARS),
        "field": field,
        "authors": [{"name": people[i]["full_name"], "share": shares[i]} for i in range(count)],
        "estimated_benefit_vnd": rng.randint(1, 300) * 1_000_000,
        "first_applied_on": (date(2024, 1, 1) + timedelta(days=rng.randint(0, 600))).isoformat(),
    }


def copied_body(original: dict[str, Any], path: str) -> dict[str, Any]:
    """Another union's registration filed again with its own authors: the same title, aim and steps."""
    people = demo_people(path, 1)
    return {**original, "authors": [{"name": people[0]["full_name"], "share": 100}]}


APPLIED_FATES = ("applied", "accepted", "district", "city")


def first_half_day(year: int, path: str, n: int) -> date:
    """A registration day of the half-year's (10 January – 10 June), before the round opened on 15 June."""
    return date(year, 1, 10) + timedelta(days=random.Random(f"thidua-demo:on-paper:{path}:{n}").randint(0, 151))


async def _one(registry: httpx.AsyncClient, rng: random.Random, path: str, n: int, today: date) -> str:
    fate = rng.choice(FATES)
    key = f"demo:initiative:{path}:{n}"

    async def act(step: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        return await send(registry, url, body, f"{key}:{step}")

    body = {"unit_path": path, **registration_body(rng, path, n)}
    registered = today
    if fate in APPLIED_FATES or path in CLAIM_ALL_DONE:  # a paper record of the half-year
        registered = first_half_day(round_year(today), path, n)
        first_applied = min(date.fromisoformat(body["first_applied_on"]), registered)  # tried, then registered
        body |= {"registered_on": registered.isoformat(), "first_applied_on": first_applied.isoformat()}
    iid = (await act("register", "/initiatives", body))["initiative_id"]
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
    drawn = rng.randint(0, 300)
    # A paper record's decision follows its registration (by 10 to 59 days); else a day of 2025, as drawn.
    decided = (
        registered + timedelta(days=10 + drawn % 50) if registered < today else date(2025, 1, 1) + timedelta(days=drawn)
    )
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


async def load_initiatives(
    registry: httpx.AsyncClient, per_unit: int = 12, today: date | None = None
) -> dict[str, int]:
    """Register and walk the demo initiatives; a no-op if the registry holds initiatives already.

    ``registry``: a client of the registry's API carrying the platform admin's bearer token; ``today``:
    the day the demo is loaded (its round's half-year is ``round_year(today)``'s).
    """
    today = today or date.today()
    existing = await registry.get("/initiatives", params={"under": "hn", "limit": 1})
    if existing.status_code == 200 and existing.json()["total"]:
        return {}
    rng = random.Random("thidua-demo:registry")
    plan = [(path, n, rng.random()) for path in grassroots_paths() for n in range(per_unit)]
    fates: dict[str, int] = {}

    async def unit(path: str) -> None:  # one unit's initiatives in order, the units concurrently
        for p, n, seed in plan:
            if p == path:
                fate = await _one(registry, random.Random(seed), path, n, today)
                fates[fate] = fates.get(fate, 0) + 1

    await asyncio.gather(*(unit(path) for path in grassroots_paths()))
    seeds = {(p, n): seed for p, n, seed in plan}
    for index, (copier, source, n) in enumerate(COPIES):
        if (source, n) not in seeds:  # a smaller demo (per_unit) than the copy names
            continue
        again = random.Random(seeds[(source, n)])
        again.choice(FATES)  # as _one drew it, so the body is the original's
        body = {"unit_path": copier, **copied_body(registration_body(again, source, n), copier)}
        await send(registry, "/initiatives", body, f"demo:initiative:{copier}:copy:{index}")
        fates["copied"] = fates.get("copied", 0) + 1
    return fates
