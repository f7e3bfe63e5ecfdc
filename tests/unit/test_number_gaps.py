"""Gaps in an issuer's invoice numbers: found per prefix, written as the issuer writes its numbers, capped."""

from __future__ import annotations

from ar.domain.number_gaps import find_gaps, split


def test_a_missing_number_between_two_is_a_gap_written_with_its_leading_zeros() -> None:
    gaps = find_gaps(["FA-2026-0041", "FA-2026-0043"])
    assert gaps.missing == ("FA-2026-0042",)
    assert gaps.count == 1


def test_consecutive_numbers_in_any_order_leave_no_gap() -> None:
    assert find_gaps(["FA-0003", "FA-0001", "FA-0002"]).count == 0
    assert find_gaps([]).missing == ()


def test_each_prefix_is_its_own_sequence() -> None:
    gaps = find_gaps(["FA-2025-0998", "FA-2026-0001", "FA-2026-0003", "AV-0007", "AV-0010"])
    assert gaps.missing == ("AV-0008", "AV-0009", "FA-2026-0002")  # nothing between 2025's last and 2026's first
    assert gaps.count == 3


def test_unpadded_numbers_stay_unpadded_and_padding_follows_the_number_before_the_gap() -> None:
    assert find_gaps(["9", "12"]).missing == ("10", "11")
    assert find_gaps(["F/099", "F/101"]).missing == ("F/100",)
    assert find_gaps(["INV.0999", "INV.1001"]).missing == ("INV.1000",)


def test_a_number_without_a_numeric_suffix_claims_no_gap() -> None:
    assert split("FA-2026-A") is None
    assert split("FA-2026-0041") == ("FA-2026-", "0041")
    gaps = find_gaps(["FA-2026-A", "FA-2026-C", "PROFORMA"])
    assert (gaps.missing, gaps.count) == ((), 0)


def test_the_same_value_written_twice_is_one_number() -> None:
    assert find_gaps(["F-0041", "F-41", "F-0042"]).count == 0


def test_the_list_is_capped_but_the_count_is_whole() -> None:
    gaps = find_gaps(["A-1", "A-1000000000", "B-1", "B-3"], cap=100)
    assert len(gaps.missing) == 100
    assert gaps.missing[:2] == ("A-2", "A-3")
    assert gaps.missing[-1] == "A-101"
    assert gaps.count == 999_999_998 + 1


def test_a_small_cap_stops_across_prefixes() -> None:
    gaps = find_gaps(["A-1", "A-3", "B-1", "B-4"], cap=2)
    assert gaps.missing == ("A-2", "B-2")
    assert gaps.count == 3
