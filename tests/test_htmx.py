"""Each fragment a view names exists in its page, under the element id it swaps."""

from __future__ import annotations

import pytest
from django.template.loader import get_template

from sequin_admin.edits import views as edit_views
from sequin_admin.htmx import Fragment
from sequin_admin.mutations import views as history_views
from sequin_admin.records import views as browse_views

FRAGMENTS = [
    value
    for module in (browse_views, history_views, edit_views)
    for value in vars(module).values()
    if isinstance(value, Fragment)
]


def test_the_views_name_their_fragments() -> None:
    assert len(FRAGMENTS) >= 5


@pytest.mark.parametrize("fragment", FRAGMENTS, ids=lambda f: f.template)
def test_each_fragment_is_a_partial_of_its_page_with_its_element(fragment: Fragment) -> None:
    source = get_template(fragment.page).template.source
    assert f"{{% partialdef {fragment.name} " in source
    assert f'id="{fragment.name}"' in source
    get_template(fragment.template)  # loads, or TemplateDoesNotExist
