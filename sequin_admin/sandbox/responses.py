"""What a handler hands back to the HTTP layer, and the error bodies Sequin uses.

Sequin has two error shapes: the Management API's `{"summary", "validation_errors"}` and the
Mutation API's `{"error", "docs"}`. Each endpoint answers in the shape its real counterpart uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    # Close the socket without sending a byte: the client sees a dropped connection.
    drop: bool = False


DROPPED = Response(status=0, drop=True)
# The body of the 500 after an await timeout is undocumented (the sentence is cut off); this
# wording is the sandbox's guess, in the Mutation API's error shape.
CONSUMERS_TIMED_OUT = "Error: Timed out waiting for consumers to process the mutation"


def json_response(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Response(status=status, body=body, headers=headers)


def summary_error(
    status: int, summary: str, validation_errors: dict[str, list[str]] | None = None
) -> Response:
    payload: dict[str, Any] = {"summary": summary}
    if validation_errors is not None:
        payload["validation_errors"] = validation_errors
    return json_response(status, payload)


def mutation_error(status: int, message: str) -> Response:
    return json_response(status, {"error": message, "docs": []})
