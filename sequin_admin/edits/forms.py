"""The edit form, built from a record's `data`.

The values the form was rendered from travel in the form itself, signed, with the record's
`updated_idx` and a one-time token: the server diffs the submission against them (so only
changed fields are sent) and the token makes a second post of the same form a no-op.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

from django import forms
from django.core import signing
from django.forms.boundfield import BoundField
from django.forms.renderers import Jinja2
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString

from sequin_admin.records.fields import FieldKind, FieldSpec
from sequin_admin.records.values import fields_differing
from sequin_admin.sequin import Consumer

# Unchanged since the forms lived in records/: forms rendered before an upgrade still load.
STATE_SALT = "sequin_admin.records.form_state"
DEFAULT_AWAIT_TIMEOUT_MS = 30_000
# Bounds on what one field may send. Python's JSON parser recurses per level, so a deeper
# value would end in a RecursionError (a 500) instead of a message; no upstream's field nests
# anywhere near this deep. A changed value longer than the largest text field any upstream
# takes (Salesforce's long text area: 131,072 characters) cannot be sent.
MAX_JSON_DEPTH = 100
MAX_VALUE_CHARS = 131_072
NEW_FIELD_KINDS = (
    ("text", "text"),
    ("number", "number"),
    ("boolean", "true / false"),
    ("json", "JSON"),
    ("null", "null"),
)


@dataclass(frozen=True)
class FormState:
    sync_id: str
    collection_id: str
    upstream_id: str
    updated_idx: int
    values: dict[str, Any]
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def sign(self) -> str:
        payload = {
            "s": self.sync_id,
            "c": self.collection_id,
            "u": self.upstream_id,
            "i": self.updated_idx,
            "v": self.values,
            "t": self.token,
        }
        return signing.dumps(payload, salt=STATE_SALT, compress=True)

    def renewed(self) -> FormState:
        """The same form state under a new one-time token."""
        return replace(self, token=secrets.token_urlsafe(16))

    @classmethod
    def load(cls, text: str) -> FormState | None:
        """The state signed into a form by this server; None for anything else."""
        try:
            payload = signing.loads(text, salt=STATE_SALT)
            return cls(
                sync_id=str(payload["s"]),
                collection_id=str(payload["c"]),
                upstream_id=str(payload["u"]),
                updated_idx=int(payload["i"]),
                values=dict(payload["v"]),
                token=str(payload["t"]),
            )
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            return None

    def belongs_to(self, *, sync_id: str, collection_id: str, upstream_id: str) -> bool:
        return (self.sync_id, self.collection_id, self.upstream_id) == (
            sync_id,
            collection_id,
            upstream_id,
        )


def data_name(key: str) -> str:
    return f"data.{key}"


def null_name(key: str) -> str:
    return f"null.{key}"


class BooleanChoiceField(forms.TypedChoiceField):
    def __init__(self, *, allow_null: bool, **kwargs: Any) -> None:
        choices = [("true", "true"), ("false", "false")]
        if allow_null:
            choices.insert(0, ("", "— null —"))
        super().__init__(
            choices=choices,
            coerce=lambda v: v == "true",
            empty_value=None,
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value


class FiniteJSONDecoder(json.JSONDecoder):
    """JSON as the standard has it: Python's NaN and Infinity are refused, since no upstream
    can take them and the request could not be sent; and no deeper than MAX_JSON_DEPTH."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(parse_constant=_refuse_constant, **kwargs)

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        if too_deep := json_too_deep(s):
            raise json.JSONDecodeError(too_deep, s, 0)
        return super().decode(s, *args, **kwargs)


def json_too_deep(text: str) -> str:
    """Why `text` nests too deeply to parse, or "" when it does not: counted without parsing,
    brackets inside strings aside."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    if deepest > MAX_JSON_DEPTH:
        return f"JSON nested {deepest} levels deep cannot be sent (at most {MAX_JSON_DEPTH})."
    return ""


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)


class IndentedJSONField(forms.JSONField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(decoder=FiniteJSONDecoder, **kwargs)

    def to_python(self, value: Any) -> Any:
        # Said here: the parent would turn the decoder's reason into "Enter a valid JSON."
        if isinstance(value, str) and (too_deep := json_too_deep(value)):
            raise forms.ValidationError(too_deep, code="too_deep")
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


# The select's value that means "none of these": the text input beside it holds the value.
OTHER_CHOICE = "__other__"


def other_name(name: str) -> str:
    return f"{name}.other"


class PicklistWidget(forms.Select):
    """A select of the values seen for the field, plus "other…" with a text input for any
    other value (static/js/app.js shows that input only when "other…" is chosen). The post
    carries the field under its own name, so the form's "left out means unchanged" holds."""

    def __init__(self, *, values: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.values = list(values)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        current = "" if value is None else str(value)
        known = current == "" or current in self.values
        self.choices = [
            ("", "— empty —"),
            *((v, v) for v in self.values),
            (OTHER_CHOICE, "other…"),
        ]
        attrs = {
            **(attrs or {}),
            "data-other-input": f"id_{other_name(name)}",
            "data-other-value": OTHER_CHOICE,
        }
        return super().get_context(name, current if known else OTHER_CHOICE, attrs)

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        select = super().render(name, value, attrs, renderer)
        current = "" if value is None else str(value)
        other = forms.TextInput(
            attrs={
                "class": "form-control mt-1",
                "id": f"id_{other_name(name)}",
                "aria-label": f"Other value of {name.removeprefix('data.')}",
            }
        ).render(other_name(name), "" if current in ("", *self.values) else current)
        return format_html("{}{}", select, other)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        chosen = data.get(name)
        return data.get(other_name(name), "") if chosen == OTHER_CHOICE else chosen


class UpstreamDateTimeField(forms.DateTimeField):
    """A `datetime-local` input in the person's timezone, sent back in the upstream's own
    spelling of instants (`Z`, `+0000` or `+00:00`, with as many fraction digits): an
    instant left as it was comes back as the very text it was."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"})

    def __init__(self, *, example: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.example = example

    def prepare_value(self, value: Any) -> Any:
        moment = parse_datetime(value) if isinstance(value, str) else value
        if isinstance(moment, datetime):
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return moment.strftime("%Y-%m-%dT%H:%M:%S")
        return value

    def clean(self, value: Any) -> Any:
        moment = super().clean(value)
        if moment is None:
            return None
        original = parse_datetime(self.example) if self.example else None
        if original is not None and original.replace(microsecond=0) == moment:
            return self.example  # untouched: not a change, whatever fraction it had
        return spelled_like(moment, self.example)


def spelled_like(moment: datetime, example: str) -> str:
    """`moment` in UTC, written as `example` writes instants."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction := re.search(r"\.(\d+)", example):
        digits = len(fraction.group(1))
        text += "." + f"{moment.microsecond:06d}"[:digits].ljust(digits, "0")
    if example.endswith("Z") or not example:
        return text + "Z"
    zone = re.search(r"[+-]\d{2}:?\d{2}$", example)
    return text + ("+00:00" if zone and ":" in zone.group(0) else "+0000")


class UpstreamDateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"})

    def prepare_value(self, value: Any) -> Any:
        return value  # the upstream's "YYYY-MM-DD" is the input's own format

    def clean(self, value: Any) -> Any:
        day = super().clean(value)
        return day.isoformat() if day is not None else None


def input_for(spec: FieldSpec) -> forms.Field:
    common: dict[str, Any] = {"label": spec.key, "required": False}
    kind: FieldKind = spec.kind
    if spec.choices and kind == "text":
        return forms.CharField(strip=False, widget=PicklistWidget(values=spec.choices), **common)
    if kind == "date":
        return UpstreamDateField(**common)
    if kind == "datetime":
        example = spec.value if isinstance(spec.value, str) else ""
        return UpstreamDateTimeField(example=example, **common)
    if kind == "boolean":
        return BooleanChoiceField(allow_null=spec.value is None, **common)
    if kind == "integer":
        return forms.IntegerField(**common)
    if kind == "number":
        return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if kind == "json":
        return IndentedJSONField(widget=forms.Textarea(attrs={"rows": 6}), **common)
    if kind == "longtext":
        return forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 4}), **common)
    return forms.CharField(strip=False, **common)


class BootstrapBoundField(BoundField):
    """A field whose widget carries Bootstrap's classes itself, so the record page renders
    each field with a small template (`edits/field.html`) instead of crispy-forms, whose
    per-field rendering was most of the page's time on a record with many fields."""

    def build_widget_attrs(self, attrs: Any, widget: Any = None) -> dict[str, Any]:
        built: dict[str, Any] = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.HiddenInput):
            return built  # crispy-forms still renders the consumer checkboxes
        # As crispy-forms names them: the widget's class, then Bootstrap's.
        classes = [widget.attrs.get("class", ""), type(widget).__name__.lower()]
        if isinstance(widget, forms.CheckboxInput):
            classes.append("form-check-input")
        elif isinstance(widget, forms.Select):
            classes.append("form-select")
        else:
            classes.append("form-control")
        if self.errors:
            classes.append("is-invalid")
        built["class"] = " ".join(c for c in classes if c)
        return built


# Django's own widget templates, rendered by Jinja2 (autoescaping, as Django's backend sets
# it): a record page renders two widgets per field, and Django's template engine made them
# the larger part of the page's time. One renderer per process: its engine caches templates.
WIDGET_RENDERER = Jinja2()


class RecordForm(forms.Form):
    """Editable fields of one record, plus a new field and the await options."""

    bound_field_class = BootstrapBoundField
    default_renderer = WIDGET_RENDERER
    state = forms.CharField(widget=forms.HiddenInput)
    new_field_name = forms.CharField(required=False, max_length=255, label="New field")
    new_field_kind = forms.ChoiceField(choices=NEW_FIELD_KINDS, required=False, label="Type")
    new_field_value = forms.CharField(required=False, strip=False, label="Value")
    await_consumer_ids = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Wait for consumers"
    )
    await_consumers_timeout = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=600_000,
        initial=DEFAULT_AWAIT_TIMEOUT_MS,
        label="Consumer timeout (ms)",
        help_text=(
            "At most 600,000 ms (10 minutes). Sequin starts this clock once the upstream has "
            "the change; the admin waits that long for its answer, plus its own read timeout."
        ),
    )

    def __init__(
        self,
        *args: Any,
        form_state: FormState | None,
        specs: Sequence[FieldSpec],
        consumers: Sequence[Consumer] = (),
        **kwargs: Any,
    ) -> None:
        """`form_state` is the state the form was rendered from, decoded once by the caller
        (None when a post carries none this server signed: the form is then invalid)."""
        super().__init__(*args, **kwargs)
        self.form_state = form_state
        if not self.is_bound and form_state is not None:
            self.initial["state"] = form_state.sign()
        self.specs = [s for s in specs if not s.read_only]
        self.read_only_specs = [s for s in specs if s.read_only]
        for spec in self.specs:
            self.fields[data_name(spec.key)] = input_for(spec)
            self.fields[null_name(spec.key)] = forms.BooleanField(
                required=False,
                label="null",
                widget=forms.CheckboxInput(attrs={"aria-label": f"Set {spec.key} to null"}),
            )
            self.initial.setdefault(data_name(spec.key), spec.value)
        await_field = cast(forms.MultipleChoiceField, self.fields["await_consumer_ids"])
        await_field.choices = [(c.id, c.name) for c in consumers]
        self.changes: dict[str, Any] = {}

    def field_rows(self) -> list[tuple[FieldSpec, forms.BoundField, forms.BoundField]]:
        return [(s, self[data_name(s.key)], self[null_name(s.key)]) for s in self.specs]

    def clean_state(self) -> str:
        if self.form_state is None:
            raise forms.ValidationError(
                "This form was not issued by this server, or was changed; reload the record."
            )
        return str(self.cleaned_data["state"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.form_state is None:
            return cleaned
        original = self.form_state.values
        wanted: dict[str, Any] = {}
        for spec in self.specs:
            name = data_name(spec.key)
            # A field the post leaves out is unchanged; only a present, emptied one is null.
            if name in self.errors or (
                name not in self.data and null_name(spec.key) not in self.data
            ):
                continue
            before = original.get(spec.key)
            value = None if cleaned.get(null_name(spec.key)) else cleaned.get(name)
            if value == "" and before != "":
                value = None  # an emptied field is sent as null
            wanted[spec.key] = value
        changes = fields_differing(base=original, wanted=wanted)
        new_name = (cleaned.get("new_field_name") or "").strip()
        if new_name:
            if new_name in original:
                self.add_error("new_field_name", f"The record already has a field {new_name!r}.")
            else:
                try:
                    changes[new_name] = parse_new_value(
                        cleaned.get("new_field_kind") or "text", cleaned.get("new_field_value", "")
                    )
                except ValueError as exc:
                    self.add_error("new_field_value", str(exc))
        for key, value in changes.items():
            if too_long := value_too_long(value):
                target = data_name(key) if data_name(key) in self.fields else "new_field_value"
                self.add_error(target, f"{key}: {too_long}")
        self.changes = changes
        return cleaned

    def reissue(self, state: FormState) -> None:
        """Render the submitted values again under `state`."""
        data = QueryDict(mutable=True)
        data.update(self.data)  # keeps every value of a multi-valued input
        data["state"] = state.sign()
        self.data = data

    def add_upstream_error(self, message: str) -> None:
        """Put the upstream's message on the field it names, else on the form."""
        named = fields_named_in(message, list(self.changes))
        for key in named:
            target = data_name(key) if data_name(key) in self.fields else "new_field_name"
            self.add_error(target, message)
        if not named:
            self.add_error(None, message)


def value_too_long(value: Any) -> str:
    """Why a field's value is too long to send (the record form, New record, bulk edit and
    CSV updates alike), or "" when it is not."""
    if len(json.dumps(value, ensure_ascii=False)) > MAX_VALUE_CHARS:
        return f"longer than {MAX_VALUE_CHARS:,} characters cannot be sent."
    return ""


def parse_new_value(kind: str, text: str) -> Any:
    if kind == "null":
        return None
    if kind == "number":
        try:
            number = float(text)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a number.") from exc
        if not math.isfinite(number):
            raise ValueError(f"{text!r} is not a number JSON can carry.")
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "boolean":
        if text.strip().lower() not in ("true", "false"):
            raise ValueError("Write true or false.")
        return text.strip().lower() == "true"
    if kind == "json":
        try:
            return json.loads(text, cls=FiniteJSONDecoder)
        except ValueError as exc:
            raise ValueError(f"Not valid JSON: {exc}") from exc
    return text


def fields_named_in(message: str, keys: Sequence[str]) -> list[str]:
    """Keys the upstream's message names, as whole words (`Email`, not `EmailBouncedDate`)."""
    found = []
    for key in keys:
        if re.search(rf"(?<![\w.]){re.escape(key)}(?![\w])", message):
            found.append(key)
    return found
