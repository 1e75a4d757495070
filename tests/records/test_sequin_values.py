from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from django.template import Context, Template
from django.utils import timezone


def render(value: object) -> str:
    return Template("{% load sequin_values %}{{ value|as_json }}").render(Context({"value": value}))


def test_values_read_as_json_and_stay_escaped() -> None:
    assert render(True) == "true"
    assert render(None) == "null"
    assert render(12.5) == "12.5"
    assert render({"city": "Oslo"}) == "{&quot;city&quot;: &quot;Oslo&quot;}"
    assert render("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"


def shown(value: object) -> str:
    return Template("{% load sequin_values %}{{ value|shown }}").render(Context({"value": value}))


def test_null_reads_unlike_an_empty_string() -> None:
    assert shown(None) == '<span class="value-null">null</span>'
    assert "value-empty" in shown("") and "empty text" in shown("")
    assert "null" not in shown("")


def test_booleans_are_marks_with_words_for_screen_readers() -> None:
    assert '<span aria-hidden="true">✓</span><span class="visually-hidden">true</span>' in shown(
        True
    )
    assert '<span aria-hidden="true">✗</span><span class="visually-hidden">false</span>' in shown(
        False
    )


def test_numbers_are_grouped() -> None:
    assert ">1,234,567<" in shown(1234567)
    assert ">-2,500.75<" in shown(-2500.75)


def test_instants_read_in_the_current_timezone() -> None:
    with timezone.override(zoneinfo.ZoneInfo("Europe/Oslo")):
        html = shown("2024-01-15T09:12:04.000+0000")  # Salesforce's spelling
        assert '<time datetime="2024-01-15T09:12:04+00:00"' in html
        assert ">2024-01-15 10:12 CET</time>" in html
        assert ">2024-07-01 02:00 CEST<" in shown("2024-07-01T00:00:00Z")
    assert ">2024-02-29</time>" in shown("2024-02-29")
    assert "<time" not in shown("2024-13-45")  # shaped like a date, but not one
    assert "<time" not in shown("call 2024-01-15")


def test_nested_objects_fold_and_long_text_expands_all_escaped() -> None:
    nested = shown({"city": "<b>Oslo</b>", "zip": "0150"})
    assert nested.startswith('<details class="value-nested"><summary>2 fields: city, zip</summary>')
    assert "&lt;b&gt;Oslo&lt;/b&gt;" in nested and "<b>" not in nested
    long = shown("<script>x</script>" + "y" * 200)
    assert long.startswith('<details class="value-long"><summary>&lt;script&gt;')
    assert "<script>" not in long
    assert shown([]) == '<span class="value-json">[]</span>'
    assert shown("<i>short</i>") == "&lt;i&gt;short&lt;/i&gt;"


def test_a_stored_instant_reads_in_the_current_timezone() -> None:
    moment = datetime(2024, 7, 1, 0, 0, tzinfo=UTC)
    template = Template("{% load sequin_values %}{{ value|instant }}")
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        html = template.render(Context({"value": moment}))
    assert html == '<time datetime="2024-07-01T00:00:00+00:00">2024-07-01 09:00 JST</time>'
    assert template.render(Context({"value": None})) == ""
