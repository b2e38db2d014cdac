"""text_width: how much a text says, in columns, for the liveness rules' thin-text line."""

from __future__ import annotations

from archive.extraction.text_width import text_width


def test_latin_and_other_narrow_scripts_count_their_characters() -> None:
    assert text_width(None) == text_width("") == 0
    assert text_width("The bridge reopened.") == 20
    assert text_width("Die Brücke über die Limmat") == 26
    assert text_width("Мост открыт снова") == 17
    assert text_width("הגשר נפתח מחדש") == 14


def test_wide_letters_count_two() -> None:
    assert text_width("橋が再開した") == 12  # kanji and kana
    assert text_width("다리가 다시 열렸다") == 2 * 8 + 2  # hangul, two spaces
    assert text_width("大桥重新开放") == 12
    assert text_width("\uff21\uff22\uff23") == 6  # fullwidth Latin letters are shown wide


def test_wide_punctuation_and_emoji_say_nothing_more() -> None:
    assert text_width("\u3002\u3001\uff01") == 3  # ideographic full stop, comma, fullwidth "!"
    assert text_width("\U0001f600") == 1
    assert text_width("橋\u3002") == 3


def test_a_cap_counts_no_further_than_the_line_it_is_compared_with() -> None:
    report = "橋が再開した" * 50  # 300 characters, 600 columns
    assert text_width(report) == 600
    assert text_width(report, cap=600) == 600
    assert text_width(report, cap=500) == 500
    assert text_width(report[:-1], cap=600) == 598
    assert text_width("a" * 700, cap=600) == 600  # as long as the line: not counted
    assert text_width("Zürich", cap=600) == 6
