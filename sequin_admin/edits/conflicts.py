"""What changed upstream under a person's edit, field by field."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.values import fields_differing, same_value

from .forms import FormState


@dataclass(frozen=True)
class Conflict:
    field: str
    original: Any
    upstream: Any
    mine: Any
    had_original: bool
    has_upstream: bool
    upstream_id: str = ""

    @property
    def upstream_moved(self) -> bool:
        return not same_value(self.original, self.upstream) or (
            self.had_original != self.has_upstream
        )

    @property
    def choice_name(self) -> str:
        """The name of the keep-mine/take-theirs input for this field."""
        if self.upstream_id:
            return f"resolve.{self.upstream_id}.{self.field}"
        return f"resolve.{self.field}"


def conflicts_for(
    *,
    original: Mapping[str, Any],
    changes: Mapping[str, Any],
    current: Mapping[str, Any],
    upstream_id: str = "",
) -> list[Conflict]:
    return [
        Conflict(
            field=key,
            original=original.get(key),
            upstream=current.get(key),
            mine=value,
            had_original=key in original,
            has_upstream=key in current,
            upstream_id=upstream_id,
        )
        for key, value in changes.items()
    ]


def must_choose(conflicts: Iterable[Conflict]) -> bool:
    """Whether the person must choose: the upstream moved a field they change, to a value
    that is not theirs. Changes to other fields, or to the same value, merge by themselves."""
    return any(c.upstream_moved and not same_value(c.upstream, c.mine) for c in conflicts)


def rebase_on(
    *, current: IndexedRecord, changes: Mapping[str, Any], keep_mine: Collection[str], token: str
) -> tuple[FormState, dict[str, Any]]:
    """After a conflict: the form state of the upstream's current record, and the person's
    kept changes that still differ from it."""
    state = FormState(
        sync_id=current.sync_id,
        collection_id=current.collection_id,
        upstream_id=current.upstream_id,
        updated_idx=current.updated_idx,
        values=current.data,
        token=token,
    )
    kept = {key: value for key, value in changes.items() if key in keep_mine}
    return state, fields_differing(base=current.data, wanted=kept)
