"""The opaque `cursor` of `GET /v1/records`: base64 of the last `updated_idx` returned.

Sequin's own example cursor `NjA3` decodes to `607`, which is where this spelling comes from.
"""

from __future__ import annotations

import base64
import binascii


def encode_cursor(updated_idx: int) -> str:
    return base64.b64encode(str(updated_idx).encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The `updated_idx` a cursor stands for; ValueError if it is not one of ours."""
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError) as error:
        raise ValueError("not a cursor") from error
    if not text.isdigit():
        raise ValueError("not a cursor")
    return int(text)
