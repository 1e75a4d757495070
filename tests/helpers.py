"""Shared steps of the view tests: open a record page, post its form as a browser would."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape
from typing import Any

from django.test import Client
from django.urls import reverse

from sequin_admin.records.forms import data_name
from sequin_admin.records.models import IndexedRecord


@dataclass
class OpenRecord:
    url: str
    html: str
    record: IndexedRecord

    @property
    def state(self) -> str:
        match = re.search(r'name="state" value="([^"]+)"', self.html)
        assert match, "the page has no signed form state"
        return unescape(match.group(1))

    def form_data(
        self, fields: Mapping[str, Any] | None = None, raw: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """What a browser posts: every input as rendered, with `fields` (by the record's keys)
        and `raw` (by input name) changed."""
        data: dict[str, Any] = {"state": self.state, "action": "send"}
        for key, value in self.record.data.items():
            name = data_name(key)
            if f'name="{name}"' in self.html:  # read-only fields have no input
                data[name] = as_posted(value)
        for key, value in (fields or {}).items():
            data[data_name(key)] = value
        data.update(raw or {})
        return data


def as_posted(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def open_record(client: Client, record: IndexedRecord) -> OpenRecord:
    url = reverse("record_detail", args=[record.sync_id, record.collection_id, record.upstream_id])
    response = client.get(url)
    assert response.status_code == 200
    record.refresh_from_db()
    return OpenRecord(url=url, html=response.content.decode(), record=record)


def post(client: Client, url: str, data: dict[str, Any], *, htmx: bool = True) -> str:
    headers = {"HX-Request": "true", "HX-Target": "record-editor"} if htmx else {}
    response = client.post(url, data, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()
