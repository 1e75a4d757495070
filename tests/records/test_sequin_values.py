from __future__ import annotations

from django.template import Context, Template


def render(value: object) -> str:
    return Template("{% load sequin_values %}{{ value|as_json }}").render(Context({"value": value}))


def test_values_read_as_json_and_stay_escaped() -> None:
    assert render(True) == "true"
    assert render(None) == "null"
    assert render(12.5) == "12.5"
    assert render({"city": "Oslo"}) == "{&quot;city&quot;: &quot;Oslo&quot;}"
    assert render("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
