"""The history's filter form; every filter lives in the address, so a view can be bookmarked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.renderers import Jinja2

from .models import Kind, Outcome


class FilterRenderer(Jinja2):
    """Django's own widget templates, and a field laid out as Bootstrap's form field, rendered
    by Jinja2 (as edits.forms does for the record form): the history renders nine filters on
    every load, and crispy-forms' field template made them a fifth of the page's time."""

    field_template_name = "mutations/filter_field.html"


# One renderer per process: its engine caches.
FILTER_RENDERER = FilterRenderer()


class MutationFilterForm(forms.Form):
    """The history's filters; every one lives in the address, so a view can be bookmarked."""

    default_renderer = FILTER_RENDERER

    user = forms.CharField(
        required=False, label="User", widget=forms.TextInput(attrs={"list": "users"})
    )
    outcome = forms.ChoiceField(
        required=False, choices=[("", "any outcome"), *Outcome.choices], label="Outcome"
    )
    kind = forms.ChoiceField(required=False, choices=[("", "any kind"), *Kind.choices])
    sync_id = forms.CharField(required=False, label="Sync")
    collection_id = forms.CharField(required=False, label="Collection")
    upstream_id = forms.CharField(required=False, label="upstream_id")
    field = forms.CharField(required=False, label="Field changed")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    # The attempts of one group (a bulk job's or a command's batches); without it, the
    # history shows each group as one line.
    group = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def widget_attrs(self, field: forms.BoundField) -> dict[str, str]:
        """Bootstrap's classes for a filter's widget, marked invalid (and tied to its message)
        when the filter was."""
        select = isinstance(field.field.widget, forms.Select)
        attrs = {"class": "form-select" if select else "form-control"}
        if field.errors:
            attrs["class"] += " is-invalid"
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{field.auto_id}_error"
        return attrs

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}
