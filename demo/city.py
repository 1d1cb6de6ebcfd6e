"""The demo city: Hanoi's federation, five upper-level unions, 25 grassroots unions, ~350 members.

Unit names follow the seed articles; member names are generated deterministically (a fixed seed), so
every run of the demo produces the same people. The loader is a client of the directory's HTTP API like
any other (the platform admin's token), so the demo obeys the same rules as real use; it does nothing
if the city already exists, and its Idempotency-Keys make an interrupted load resume where it stopped.
"""

import asyncio
import random
from typing import Any

import httpx

from shared.text import fold

CITY = ("hn", "Liên đoàn Lao động Thành phố Hà Nội")

# (code, name, grassroots unions as (code, name, sub-units as (code, name)))
UPPER_LEVEL: list[tuple[str, str, list[tuple[str, str, list[tuple[str, str]]]]]] = [
    ("ntl", "Liên đoàn Lao động quận Nam Từ Liêm", [
        ("fecon", "Công đoàn Công ty Cổ phần Fecon", [
            ("thi-cong", "Tổ công đoàn Khối thi công"),
            ("van-phong", "Tổ công đoàn Khối văn phòng"),
        ]),
        ("ceo", "Công đoàn Công ty Cổ phần Tập đoàn CEO", []),
        ("jw-marriott", "Công đoàn Khách sạn JW Marriott Hà Nội", []),
        ("mn-trung-van", "Công đoàn Trường Mầm non Trung Văn", []),
        ("th-nam-tu-liem", "Công đoàn Trường Tiểu học Nam Từ Liêm", []),
        ("p-cau-dien", "Công đoàn phường Cầu Diễn", []),
        ("chi-cuc-thue", "Công đoàn Chi cục Thuế quận Nam Từ Liêm", []),
        ("hanh-chinh", "Công đoàn Cơ quan Hành chính quận Nam Từ Liêm", []),
    ]),
    ("dd", "Liên đoàn Lao động quận Đống Đa", [
        ("handico", "Công đoàn Tổng công ty Đầu tư và Phát triển nhà Hà Nội", []),
        ("bv-dong-da", "Công đoàn Bệnh viện Đa khoa Đống Đa", []),
        ("ttbdct", "Công đoàn Trung tâm Bồi dưỡng chính trị quận Đống Đa", []),
        ("thcs-dong-da", "Công đoàn Trường THCS Đống Đa", []),
        ("dan-dang", "Công đoàn Cơ quan Dân Đảng quận Đống Đa", []),
    ]),
    ("gl", "Liên đoàn Lao động huyện Gia Lâm", [
        ("thanh-hung", "Công đoàn Công ty TNHH Xuất nhập khẩu Thanh Hùng", []),
        ("bv-gia-lam", "Công đoàn Bệnh viện Đa khoa huyện Gia Lâm", []),
        ("th-trau-quy", "Công đoàn Trường Tiểu học Trâu Quỳ", []),
        ("ttyt-gia-lam", "Công đoàn Trung tâm Y tế huyện Gia Lâm", []),
    ]),
    ("cdvc", "Công đoàn Viên chức Thành phố Hà Nội", [
        ("co-quan-ldld", "Công đoàn Cơ quan Liên đoàn Lao động Thành phố", []),
        ("bqlda-giao-thong", "Công đoàn Ban Quản lý dự án đầu tư xây dựng công trình giao thông Thành phố", []),
        ("so-noi-vu", "Công đoàn Sở Nội vụ Hà Nội", []),
        ("bhxh-hn", "Công đoàn Bảo hiểm xã hội Thành phố Hà Nội", []),
    ]),
    ("xd", "Công đoàn ngành Xây dựng Hà Nội", [
        ("hatang-giaothong", "Công đoàn Công ty Cổ phần Đầu tư xây dựng hạ tầng và giao thông", []),
        ("nha-ha-noi", "Công đoàn Công ty Đầu tư và Phát triển nhà Hà Nội số 5", []),
        ("xd-so-1", "Công đoàn Công ty Cổ phần Xây dựng số 1 Hà Nội", []),
        ("vlxd", "Công đoàn Công ty Cổ phần Vật liệu xây dựng Hà Nội", []),
    ]),
]  # fmt: skip

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
          "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh", "Đào", "Mai"]  # fmt: skip
MIDDLE = {"female": ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Phương", "Thùy"],
          "male": ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thanh", "Xuân", "Công"]}  # fmt: skip
GIVEN = {"female": ["Anh", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Ngân",
                    "Nhung", "Phương", "Thảo", "Trang", "Vân", "Yến", "Huyền", "Loan", "Quỳnh"],
         "male": ["Anh", "Bình", "Cường", "Dũng", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Long", "Nam",
                  "Quân", "Sơn", "Thắng", "Tuấn", "Tùng", "Việt", "Đạt", "Trung", "Phong"]}  # fmt: skip
JOBS = ["Công nhân", "Kỹ sư", "Kế toán", "Giáo viên", "Chuyên viên", "Nhân viên văn phòng", "Điều dưỡng",
        "Bác sĩ", "Lái xe", "Cán bộ kỹ thuật", "Nhân viên kinh doanh", "Thủ kho"]  # fmt: skip

# Who holds which role in each kind of unit (the first people enrolled, in this order).
OFFICIALS: dict[str, list[str]] = {
    "city_federation": ["chair", "standing_committee", "emulation_officer"],
    "upper_level_union": ["chair", "standing_committee", "emulation_officer", "executive_committee"],
    "grassroots_union": ["chair", "emulation_officer", "executive_committee", "incubator_mentor"],
    "sub_unit": ["chair", "emulation_officer", "executive_committee"],
}
STAFF = {"city_federation": 6, "upper_level_union": 5, "sub_unit": 6}  # grassroots: 10 to 16


def demo_people(seed: str, count: int) -> list[dict[str, Any]]:
    """``count`` realistic Vietnamese members, the same for the same seed on every run."""
    rng = random.Random(f"thidua-demo:{seed}")
    people = []
    for index in range(count):
        gender = rng.choice(["female", "male"])
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[gender])} {rng.choice(GIVEN[gender])}"
        person: dict[str, Any] = {
            "full_name": name,
            "gender": gender,
            "birth_year": rng.randint(1965, 2002),
            "job_title": rng.choice(JOBS),
        }
        if rng.random() < 0.6:
            local = fold(name).replace(" ", ".")
            person["email"] = f"{local}.{index + 1}@{seed.replace('.', '-')}.congdoan.example.vn"
        people.append(person)
    return people


def paths() -> list[tuple[str, str, str]]:
    """Every demo unit as (path, kind, name), parents first."""
    city = CITY[0]
    found = [(city, "city_federation", CITY[1])]
    for code, name, below in UPPER_LEVEL:
        found.append((f"{city}.{code}", "upper_level_union", name))
        for g_code, g_name, subs in below:
            found.append((f"{city}.{code}.{g_code}", "grassroots_union", g_name))
            found += [(f"{city}.{code}.{g_code}.{s}", "sub_unit", s_name) for s, s_name in subs]
    return found


def grassroots_paths() -> list[str]:
    return [path for path, kind, _ in paths() if kind == "grassroots_union"]


async def ok(call: Any) -> dict[str, Any]:
    response = await call
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


async def send(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], key: str, patience: float = 90.0
) -> dict[str, Any]:
    """POST a command with its Idempotency-Key. A service learns units and people from the directory's
    events a moment after the directory records them: a 404 or 422 is retried until ``patience`` runs out."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        response = await client.post(url, json=body, headers={"Idempotency-Key": key})
        if response.status_code in (200, 201):
            return response.json()
        if response.status_code not in (404, 422) or asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"POST {url}: {response.status_code} {response.text}")
        await asyncio.sleep(0.5)


async def load_city(directory: httpx.AsyncClient) -> dict[str, int]:
    """Register the demo city and enrol its people; a no-op if the city is already there.

    ``directory``: a client of the directory's API carrying the platform admin's bearer token.
    """
    if (await directory.get(f"/units/by-path/{CITY[0]}")).status_code == 200:
        return {"units": 0, "members": 0}
    counts = {"units": 0, "members": 0}
    ids: dict[str, str] = {}

    async def register(path: str, kind: str, name: str) -> None:
        parent, _, code = path.rpartition(".")
        body = {"code": code, "name": name, "kind": kind, "parent_id": ids.get(parent)}
        unit = await ok(directory.post("/units", json=body, headers={"Idempotency-Key": f"demo:unit:{path}"}))
        ids[path] = unit["unit_id"]
        counts["units"] += 1
        count = STAFF.get(kind, 10 + len(code) % 7)
        people = demo_people(path, count)
        enrolled = await asyncio.gather(
            *(
                ok(directory.post(f"/units/{unit['unit_id']}/members", json=person,
                                  headers={"Idempotency-Key": f"demo:member:{path}:{index}"}))
                for index, person in enumerate(people)
            )
        )  # fmt: skip
        counts["members"] += len(enrolled)
        await asyncio.gather(
            *(
                ok(directory.post(f"/members/{member['member_id']}/roles", json={"role": role},
                                  headers={"Idempotency-Key": f"demo:role:{path}:{role}"}))
                for member, role in zip(enrolled, OFFICIALS[kind], strict=False)
            )
        )  # fmt: skip

    levels: dict[int, list[tuple[str, str, str]]] = {}
    for unit in paths():
        levels.setdefault(unit[0].count("."), []).append(unit)
    for depth in sorted(levels):  # siblings concurrently (their commands share group commits)
        await asyncio.gather(*(register(*unit) for unit in levels[depth]))
    return counts
