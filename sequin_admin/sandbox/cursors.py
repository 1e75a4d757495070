"""The `cursor` of `GET /v1/records`, in two spellings.

`PlainCursors` (the docs profile): base64 of the last `updated_idx` returned. Sequin's own
example cursor `NjA3` decodes to `607`, which is where this spelling comes from.

`OpaqueCursors` (the real profile): a live Sequin's cursors bear no relation to the records
beside them (the docs' `NjA3` sits beside `updated_idx` 2745327036), so these are salted and
keyed: two cursors for the same place differ, and nothing can be read from or forged into
one. The key comes from the token, so cursors survive a restart of the sandbox.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Protocol

_NONCE_BYTES = 8
_TAG_BYTES = 8


class CursorCodec(Protocol):
    def encode(self, updated_idx: int) -> str: ...

    def decode(self, cursor: str) -> int:
        """The `updated_idx` a cursor stands for; ValueError if it is not one of ours."""
        ...


def encode_cursor(updated_idx: int) -> str:
    return base64.b64encode(str(updated_idx).encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The `updated_idx` a plain cursor stands for; ValueError if it is not one of ours."""
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError) as error:
        raise ValueError("not a cursor") from error
    if not text.isdigit():
        raise ValueError("not a cursor")
    return int(text)


class PlainCursors:
    def encode(self, updated_idx: int) -> str:
        return encode_cursor(updated_idx)

    def decode(self, cursor: str) -> int:
        return decode_cursor(cursor)


class OpaqueCursors:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"sequin-sandbox-cursor\0" + secret.encode()).digest()

    def _mac(self, *parts: bytes) -> bytes:
        return hmac.new(self._key, b"".join(parts), hashlib.sha256).digest()

    def encode(self, updated_idx: int) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        pad = self._mac(b"pad", nonce)[:8]
        sealed = bytes(a ^ b for a, b in zip(updated_idx.to_bytes(8, "big"), pad, strict=True))
        tag = self._mac(b"tag", nonce, sealed)[:_TAG_BYTES]
        return base64.urlsafe_b64encode(nonce + sealed + tag).decode().rstrip("=")

    def decode(self, cursor: str) -> int:
        try:
            raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        except (binascii.Error, UnicodeError, ValueError) as error:
            raise ValueError("not a cursor") from error
        if len(raw) != _NONCE_BYTES + 8 + _TAG_BYTES:
            raise ValueError("not a cursor")
        nonce, sealed, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if not hmac.compare_digest(tag, self._mac(b"tag", nonce, sealed)[:_TAG_BYTES]):
            raise ValueError("not a cursor")
        pad = self._mac(b"pad", nonce)[:8]
        return int.from_bytes(bytes(a ^ b for a, b in zip(sealed, pad, strict=True)), "big")
