"""Duplicate detection: Vietnamese-aware features, the score, and the index over many registrations."""

import unicodedata

from services.registry.adapters.duplicates import DuplicateIndex
from services.registry.domain.similarity import features, similarity, words

QR = "Ứng dụng mã QR trong quản lý hồ sơ đoàn viên công đoàn tại doanh nghiệp"


def test_words_are_folded_and_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Đổi mới Sáng tạo")
    assert words(decomposed) == words("doi moi sang tao") == ["doi", "moi", "sang", "tao"]


def test_a_copy_without_accents_scores_near_one_and_a_reworded_copy_stays_high() -> None:
    assert (
        similarity(features(QR), features("ung dung ma qr trong quan ly ho so doan vien cong doan tai doanh nghiep"))
        == 1.0
    )
    reworded = "Ứng dụng mã QR để quản lý hồ sơ đoàn viên tại các doanh nghiệp"
    assert similarity(features(QR), features(reworded)) > 0.5


def test_unrelated_initiatives_score_low() -> None:
    other = "Tổ chức giải bóng đá nam nữ chào mừng Tháng Công nhân"
    assert similarity(features(QR), features(other)) < 0.2


def test_the_index_finds_the_near_copy_in_the_city_only_and_skips_itself() -> None:
    index = DuplicateIndex()
    for n in range(300):  # registrations on one theme share common words but not their substance
        index.add(
            f"i-{n}", f"u-{n % 7}", "hn", f"Sáng kiến số {n}", f"Cải tiến quy trình số {n} tại phân xưởng {n * 7}"
        )
    index.add("qr", "u-fecon", "hn", "Mã QR", QR)
    index.add("qr-hcm", "u-hcm", "hcm", "Mã QR", QR)
    matches = index.search("ung dung ma QR quan ly ho so doan vien cong doan tai doanh nghiep", "hn")
    assert [m.initiative_id for m in matches] == ["qr"] and matches[0].score > 0.8
    assert index.search(QR, "hn", exclude="qr") == []
    index.add("qr", "u-fecon", "hn", "Bóng đá", "Giải bóng đá công nhân")  # a revision replaces the text
    assert index.search(QR, "hn") == []
