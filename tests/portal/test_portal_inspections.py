"""Inspections journeys in a real browser (Debian's Chromium) against the whole platform: a self-inspection
answered with a contradiction flagged before it is submitted, and an inspection planned from the risk
sample through to a corrective action verified. Every page is checked with axe-core and photographed at
desktop width and at 390 px (the ``visit`` fixture's ``check``)."""

import re
from collections.abc import Callable
from datetime import date, timedelta

from playwright.sync_api import Locator, Page, expect

from tests.portal.conftest import Visitor

Visit = Callable[..., Visitor]
YEAR = date.today().year
DUE = (date.today() + timedelta(days=20)).isoformat()
APPLIED = "Sáng kiến được áp dụng vào thực tế"  # the demo campaign's counted indicator: Fecon applied 4 of 10


def _until(visitor: Visitor, path: str, ready: Callable[[Page], bool], tries: int = 60) -> None:
    """Reload until the level host has projected what the journey just did (moments, on a busy machine)."""
    for _ in range(tries):
        visitor.go(path)
        if ready(visitor.page):
            return
        visitor.page.wait_for_timeout(500)
    raise AssertionError(f"{path} did not show the expected state")


def _answer(item: Locator, answer: str, evidence: str = "") -> None:
    item.get_by_label(answer, exact=True).check()
    if evidence:
        item.get_by_label("Minh chứng: tài liệu, sự việc chứng minh").fill(evidence)
    item.get_by_role("button", name="Lưu câu trả lời").click()


def test_a_self_inspection_is_answered_with_a_contradiction_flagged(visit: Visit) -> None:
    # The district opens the year's round: every grassroots union below gets its pre-filled checklist.
    ntl = visit("ntl-chair")
    page = ntl.page
    ntl.go("/inspections")
    opening = page.locator("form[action='/inspections/rounds']")
    opening.get_by_label("Tên đợt tự kiểm tra").fill(f"Tự kiểm tra năm {YEAR}")
    opening.get_by_label("Năm").fill(str(YEAR))
    opening.get_by_label("Kỳ").select_option("year")
    opening.get_by_label("Hạn hoàn thành").fill(DUE)
    opening.get_by_role("button", name="Mở đợt tự kiểm tra").click()
    expect(page.locator(".alert.ok")).to_contain_text("Đã mở đợt tự kiểm tra")
    round_path = page.url.removeprefix(ntl.url)
    _until(ntl, round_path, lambda p: "Công đoàn Công ty Cổ phần Fecon" in p.locator("table").inner_text())
    ntl.check("round-opened")

    # Fecon's chair opens the checklist: the facts stand beside each item.
    fecon = visit("fecon-chair")
    mine = "section[aria-labelledby='mine-h']"
    ours = f"Tự kiểm tra năm {YEAR}"
    _until(fecon, "/inspections", lambda p: p.locator(mine).get_by_role("link", name=ours).count() > 0)
    fecon.page.locator(mine).get_by_role("link", name=ours).click()
    checklist = fecon.page
    applied = checklist.locator("li.item", has_text=APPLIED)
    expect(applied.locator("dl.facts")).to_contain_text("tối thiểu 10")
    expect(applied.locator("dl.facts")).to_contain_text(re.compile(r"Số liệu đo được\s*4 sáng kiến"))
    expect(checklist.locator("li.item").filter(has_text="chưa ghi nhận áp dụng").first).to_be_visible()
    fecon.check("checklist-prefilled")

    # "Done" without evidence is refused beside the evidence box, in Vietnamese.
    _answer(applied, "đã thực hiện")
    applied = checklist.locator("li.item", has_text=APPLIED)
    expect(applied.locator("p.error")).to_contain_text("cần có minh chứng")
    # With evidence it is saved, and the facts contradict it: the flag shows at once, before submitting.
    _answer(applied, "đã thực hiện", "Báo cáo áp dụng sáng kiến năm của công đoàn")
    applied = checklist.locator("li.item", has_text=APPLIED)
    expect(applied.locator(".flag")).to_contain_text("Mâu thuẫn")
    expect(applied.locator(".flag")).to_contain_text("đo được 4 so với chỉ tiêu 10")
    expect(checklist.locator(".alert.ok, .alert.error")).to_have_count(0)  # not submitted: nothing said yet
    fecon.check("contradiction-flagged")

    # Every other item is answered "not done" (no evidence needed), then the self-inspection is submitted.
    items = checklist.locator("li.item")
    for index in range(items.count()):
        item = checklist.locator(f"#item-{index}")
        if APPLIED in item.locator("h3").inner_text():
            continue
        _answer(item, "chưa thực hiện")
        expect(checklist.locator(f"#item-{index} .answer")).to_contain_text("chưa thực hiện")
    checklist.reload()  # the page as a whole now counts the flags
    expect(checklist.locator(".alert.warn").first).to_contain_text("1 câu trả lời trái với số liệu")
    submit = checklist.locator("form[action$='/submit']")
    expect(submit).to_contain_text("Các câu trả lời bị cảnh báo sẽ được nộp kèm cảnh báo")
    submit.get_by_label("Nhận xét, tồn tại do đơn vị tự nêu (mỗi dòng một ý)").fill("Chưa đạt chỉ tiêu áp dụng")
    submit.get_by_role("button", name="Nộp", exact=True).click()
    expect(checklist.locator(".alert.ok")).to_contain_text("Đã nộp bản tự kiểm tra")
    fecon.check("submitted")

    # The district sees the submission with its contradiction, in the round and in the checklist.
    def submitted(p: Page) -> bool:
        row = p.locator("tbody tr", has_text="Công đoàn Công ty Cổ phần Fecon")
        return row.count() > 0 and "đã gửi" in row.inner_text().lower()

    _until(ntl, round_path, submitted)
    row = page.locator("tbody tr", has_text="Công đoàn Công ty Cổ phần Fecon")
    expect(row.locator("td.num").nth(1)).to_have_text("1")  # one contradiction
    ntl.check("round-with-submission")
    row.get_by_role("link").click()
    expect(page.locator("li.item", has_text=APPLIED).locator(".flag")).to_contain_text("đo được 4 so với chỉ tiêu 10")
    ntl.check("submitted-checklist-seen-above")

    # An amendment needs its reason; with one, it is recorded and counted.
    amend = checklist.locator("form[action$='/amend']")
    amend.get_by_label("Mục", exact=True).select_option(label=APPLIED)
    amend.get_by_label("thực hiện một phần").check()
    amend.get_by_label("Minh chứng: tài liệu, sự việc chứng minh").fill("Báo cáo áp dụng 4 sáng kiến")
    amend.get_by_role("button", name="Ghi nhận sửa đổi").click()
    expect(checklist.locator("#e-amend\\.reason")).to_contain_text("Trường này là bắt buộc")
    amend = checklist.locator("form[action$='/amend']")
    amend.get_by_label("Mục", exact=True).select_option(label=APPLIED)
    amend.get_by_label("thực hiện một phần").check()
    amend.get_by_label("Minh chứng: tài liệu, sự việc chứng minh").fill("Báo cáo áp dụng 4 sáng kiến")
    amend.get_by_label("Lý do sửa đổi").fill("Tự đánh giá lại theo số liệu áp dụng thực tế")
    amend.get_by_role("button", name="Ghi nhận sửa đổi").click()
    expect(checklist.locator(".alert.ok")).to_contain_text("Đã ghi nhận sửa đổi")
    expect(checklist.locator("p.meta").first).to_contain_text("đã sửa đổi 1 lần")

    # The district sees the amendment counted, and the amended answer.
    def amended(p: Page) -> bool:
        row = p.locator("tbody tr", has_text="Công đoàn Công ty Cổ phần Fecon")
        return row.count() > 0 and row.locator("td.num").nth(2).inner_text().strip() == "1"

    _until(ntl, round_path, amended)
    page.locator("tbody tr", has_text="Công đoàn Công ty Cổ phần Fecon").get_by_role("link").click()
    expect(page.locator("li.item", has_text=APPLIED).locator(".answer")).to_contain_text("thực hiện một phần")


def test_an_inspection_is_planned_from_the_risk_sample(visit: Visit) -> None:
    ntl = visit("ntl-chair")
    page = ntl.page
    ntl.go("/inspections")
    page.get_by_role("link", name="Lập kế hoạch kiểm tra").click()
    sample = page.locator("form.filters")
    sample.get_by_label("Cách chọn mẫu").select_option("risk")
    sample.get_by_label("Số đơn vị đề xuất").fill("8")  # every union of the district the radar scores
    sample.get_by_role("button", name="Đề xuất mẫu").click()
    proposed = page.locator("ul.sample > li")
    expect(proposed.first).to_be_visible()
    expect(proposed.first.locator("ul.reasons")).to_contain_text("Sáng kiến gần trùng")  # each unit's reasons
    expect(page.locator("ul.sample")).to_contain_text("hn.ntl.fecon")
    ntl.check("risk-sample-proposed")
    # The committee keeps two: Fecon and the riskiest other union.
    others = proposed.filter(has_not_text="hn.ntl.fecon")
    for index in range(1, others.count()):
        others.nth(index).get_by_role("checkbox").uncheck()
    dropped = others.last
    dropped_path = dropped.locator(".sub").first.inner_text()

    schedule = page.locator("form[action='/inspections/plan']")
    schedule.get_by_role("button", name="Lên lịch cuộc kiểm tra").click()  # no purpose, no period yet
    expect(page.locator("#e-purpose")).to_contain_text("Trường này là bắt buộc")
    schedule = page.locator("form[action='/inspections/plan']")
    kept = schedule.locator("ul.sample > li", has_text=dropped_path)
    expect(kept.get_by_role("checkbox")).not_to_be_checked()  # the choice survives the refusal
    schedule.get_by_label("Mục đích").fill("Kiểm tra việc thực hiện giao ước thi đua năm và minh chứng báo cáo")
    schedule.get_by_label("Nội dung", exact=True).select_option("pledge_fulfilment")
    schedule.get_by_label("Từ ngày").fill(f"{YEAR}-01-01")
    schedule.get_by_label("Đến ngày").fill(date.today().isoformat())
    schedule.get_by_role("button", name="Lên lịch cuộc kiểm tra").click()
    expect(page.locator(".alert.ok")).to_contain_text("Đã lên lịch cuộc kiểm tra")
    expect(page.locator("dl.facts")).to_contain_text("mẫu theo rủi ro")
    units = page.locator("section.inspected")
    expect(units).to_have_count(2)
    expect(units.first).to_contain_text("Được đề xuất vì:")
    expect(page.locator("section.inspected", has_text=dropped_path)).to_have_count(0)
    ntl.check("inspection-scheduled")
    inspection_path = page.url.split("#")[0].removeprefix(ntl.url)

    # Notice, then decision, then a finding and its corrective action at one unit.
    notice = page.locator("form[action$='/notice']")
    notice.get_by_label("Số hiệu").fill("05/TB-UBKT")
    notice.get_by_label("Ngày ban hành").fill(date.today().isoformat())
    notice.get_by_label("Ngày bắt đầu kiểm tra").fill(DUE)
    notice.get_by_role("button", name="Ban hành thông báo kiểm tra").click()
    expect(page.locator(".alert.ok")).to_contain_text("Đã ban hành thông báo kiểm tra")
    decision = page.locator("form[action$='/decision']")
    decision.get_by_label("Số hiệu").fill("06/QĐ-UBKT")
    decision.get_by_label("Ngày quyết định").fill(date.today().isoformat())
    decision.get_by_role("button", name="Ban hành quyết định kiểm tra").click()
    expect(page.locator("dl.facts")).to_contain_text("06/QĐ-UBKT")

    fecon_unit = "section.inspected:has(h2:text-is('hn.ntl.fecon'))"
    finding = page.locator(fecon_unit).locator("form[action$='/findings']")
    finding.get_by_label("Mức độ").select_option("moderate")
    finding.get_by_label("Nội dung phát hiện").fill("Chỉ tiêu báo cáo đạt nhưng không có minh chứng kèm theo")
    finding.get_by_label("Kiến nghị").fill("Bổ sung biên bản, danh sách minh chứng")
    finding.get_by_role("button", name="Ghi nhận").click()
    expect(page.locator(".alert.ok")).to_contain_text("Đã ghi nhận nội dung phát hiện")
    action = page.locator(fecon_unit).locator("form[action$='/actions']")
    action.get_by_label("Việc phải làm").fill("Bổ sung minh chứng cho kết quả đã báo cáo")
    action.get_by_label("Người chịu trách nhiệm tại đơn vị").fill("Chủ tịch công đoàn cơ sở")
    action.get_by_label("Hạn hoàn thành").fill(DUE)
    action.get_by_role("button", name="Giao biện pháp").click()
    expect(page.locator(".alert.ok")).to_contain_text("Đã giao biện pháp khắc phục")
    ntl.check("finding-and-action")

    # The dashboard counts the open action, and the figure opens what it counts.
    def counted(p: Page) -> bool:
        panel = p.locator("section[aria-labelledby='ca-open-h']")
        panel.wait_for(timeout=10_000)  # the inspections panels load into the dashboard
        return panel.locator("a.count").count() > 0 and panel.locator("a.count").inner_text().strip() != "0"

    _until(ntl, "/dashboard", counted)
    expect(page.locator("section[aria-labelledby='radar-top-h']")).to_contain_text("Sáng kiến gần trùng")
    ntl.check("dashboard-inspections")
    page.locator("section[aria-labelledby='ca-open-h'] a.count").click()
    expect(page.locator("table")).to_contain_text("Bổ sung minh chứng cho kết quả đã báo cáo")
    ntl.check("open-actions")

    # Fecon reports its fix with evidence; the district reopens it once, then verifies the second fix.
    fecon = visit("fecon-chair")
    fecon.go(inspection_path)
    fix = fecon.page.locator("form[action$='/fix']")
    fix.get_by_label("Đã khắc phục những gì").fill("Đã bổ sung biên bản và danh sách")
    fix.get_by_label("Đường dẫn tới tài liệu (mỗi dòng một đường dẫn)").fill("https://fecon.example/bien-ban.pdf")
    fix.get_by_role("button", name="Báo cáo đã khắc phục").click()
    expect(fecon.page.locator(".alert.ok")).to_contain_text("Đã báo cáo khắc phục")
    fecon.check("fix-reported")
    ntl.go(inspection_path)
    reopen = page.locator("form[action$='/reopen']")
    reopen.get_by_label("Vì sao khắc phục chưa đạt").fill("Danh sách chưa có chữ ký")
    reopen.get_by_label("Hạn mới").fill(DUE)
    reopen.get_by_role("button", name="Mở lại biện pháp").click()
    expect(page.locator(".alert.ok")).to_contain_text("Đã mở lại biện pháp khắc phục")
    fecon.go(inspection_path)
    fix = fecon.page.locator("form[action$='/fix']")
    fix.get_by_label("Đã khắc phục những gì").fill("Đã bổ sung chữ ký vào danh sách")
    fix.get_by_label("Minh chứng: tài liệu, sự việc chứng minh").fill("Danh sách có chữ ký, lưu tại văn phòng")
    fix.get_by_role("button", name="Báo cáo đã khắc phục").click()
    expect(fecon.page.locator(".alert.ok")).to_contain_text("Đã báo cáo khắc phục")
    ntl.go(inspection_path)
    page.locator("form[action$='/verify']").get_by_role("button", name="Xác nhận đã khắc phục").click()
    expect(page.locator(".alert.ok")).to_contain_text("Đã xác nhận biện pháp khắc phục")
    expect(page.locator(fecon_unit).locator("ul.history")).to_contain_text("mở lại")
    ntl.check("action-verified")

    # The radar's drill-down shows the evidence behind a proposed unit's score.
    ntl.go(inspection_path)
    page.locator("section.inspected").first.get_by_role("link", name="Minh chứng của điểm rủi ro").click()
    expect(page.locator("table")).to_contain_text("Sáng kiến gần trùng với sáng kiến của đơn vị khác")
    ntl.check("radar-drill-down")
