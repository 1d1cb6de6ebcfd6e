"""The demo city: Hanoi's federation, five upper-level unions, 25 grassroots unions, ~350 members.

Unit names follow the seed articles; member names are generated deterministically (a fixed seed), so
every run of the demo produces the same people. The loader goes through the command handlers, so the
demo obeys the same rules as real use; it does nothing if the city already exists.

Run: ``python -m services.directory.demo`` (database from THIDUA_DATABASE_URL).
"""

import asyncio
import random
from collections.abc import Sequence
from typing import Any

from services.directory.adapters.tree import Tree
from services.directory.application import members, units
from services.directory.domain.commands import AssignRole, EnrolMember, RegisterUnit
from shared.auth import Caller
from shared.commands import CommandContext
from shared.eventstore import EventStore
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

_ADMIN = Caller(subject="demo-loader", unit_path=CITY[0], roles=frozenset({"admin"}))


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


async def load_demo(store: EventStore, tree: Tree) -> dict[str, int]:
    """Register the demo city and enrol its members; a no-op if the city is already there."""
    if await tree.unit_by_path(CITY[0]) is not None:
        return {"units": 0, "members": 0}
    ctx = CommandContext(caller=_ADMIN)
    counts = {"units": 0, "members": 0}

    async def register(code: str, name: str, kind: str, parent_id: str | None) -> dict[str, Any]:
        cmd = RegisterUnit(code=code, name=name, kind=kind, parent_id=parent_id)  # type: ignore[arg-type]
        counts["units"] += 1
        return await units.register_unit(store, tree, ctx, cmd)

    async def grassroots(parent_id: str, code: str, name: str, subs: list[tuple[str, str]]) -> None:
        unit = await register(code, name, "grassroots_union", parent_id)
        await _staff(store, tree, ctx, unit, 10 + len(code) % 7, counts)
        for s_code, s_name in subs:
            sub = await register(s_code, s_name, "sub_unit", unit["unit_id"])
            await _staff(store, tree, ctx, sub, 6, counts)

    city = await register(*CITY, "city_federation", None)
    for code, name, units_below in UPPER_LEVEL:
        upper = await register(code, name, "upper_level_union", city["unit_id"])
        await _staff(store, tree, ctx, upper, 4, counts)
        # Siblings concurrently: their commands share group commits.
        await asyncio.gather(*(grassroots(upper["unit_id"], *spec) for spec in units_below))
    return counts


async def _staff(
    store: EventStore,
    tree: Tree,
    ctx: CommandContext,
    unit: dict[str, Any],
    count: int,
    counts: dict[str, int],
) -> None:
    """Enrol ``count`` people in the unit (concurrently: one group commit) and name its officials."""
    people = demo_people(unit["path"], count)
    enrolled: Sequence[dict[str, Any]] = await asyncio.gather(
        *(members.enrol_member(store, tree, ctx, unit["unit_id"], EnrolMember(**p)) for p in people)
    )
    counts["members"] += len(enrolled)
    officials = ["chair", "emulation_officer", "executive_committee"]
    await asyncio.gather(
        *(
            members.assign_role(store, tree, ctx, m["member_id"], AssignRole(role=role))  # type: ignore[arg-type]
            for m, role in zip(enrolled, officials, strict=False)
        )
    )


async def _main() -> None:
    from shared.db import open_database
    from shared.eventstore.migrate import migrate
    from shared.settings import Settings

    settings = Settings()
    db = open_database(settings.database_url)
    await migrate(db)
    tree = Tree(db)
    await tree.create_tables()
    store = EventStore(db, inline=[tree])
    try:
        print(await load_demo(store, tree))
    finally:
        await store.close()
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(_main())
