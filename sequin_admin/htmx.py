"""What every view shares about htmx: the request type, and fragments named once."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """The request type of every view: django-htmx's middleware adds `htmx`."""

    htmx: HtmxDetails


@dataclass(frozen=True)
class Fragment:
    """A page's template partial and the element it fills: the partial and the element share
    one name, so a view names the fragment once and the page's htmx attributes agree."""

    page: str
    name: str

    @property
    def template(self) -> str:
        return f"{self.page}#{self.name}"

    def wanted_by(self, request: HtmxHttpRequest) -> bool:
        """Whether an htmx request asks for just this fragment (it targets the element)."""
        return bool(request.htmx) and request.htmx.target == self.name
