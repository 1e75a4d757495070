from __future__ import annotations

import http.client
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import requests

from sequin_admin.sandbox.__main__ import main
from sequin_admin.sandbox.demo_data import (
    CONFIRM_MS,
    CONSUMER_IDS,
    DEFAULT_TOKEN,
    HUBSPOT_SYNC_ID,
    SALESFORCE_SYNC_ID,
    WAREHOUSE_CONSUMER_ID,
)
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer

if TYPE_CHECKING:
    from tests.sandbox.conftest import Api


def _retitle(api: Api, record: dict[str, Any], title: str) -> requests.Response:
    return api.mutate(
        kind="update",
        sync_id=record["sync_id"],
        collection_id=record["collection_id"],
        records=[{"upstream_id": record["upstream_id"], "data": {"Title": title}}],
    )


def _title(sandbox: SandboxServer, record: dict[str, Any]) -> str | None:
    current = sandbox.store.get_record(
        record["sync_id"], record["collection_id"], record["upstream_id"]
    )
    assert current is not None
    return current["data"]["Title"]


@pytest.fixture
def contact(sandbox: SandboxServer) -> dict[str, Any]:
    return sandbox.store.any_record("salesforce:contact")


def test_control_endpoints_list_add_and_clear_faults(api: Api) -> None:
    assert api.get("/_sandbox/faults").json() == {"data": []}
    added = api.post("/_sandbox/faults", {"kind": "rate_limit_429", "retry_after": 3})
    assert added.status_code == 201
    assert added.json() == {
        "data": [
            {
                "kind": "rate_limit_429",
                "count": 1,
                "latency_ms": 0,
                "retry_after": 3,
                "status": None,
                "apply": True,
                "match": "/v1/mutations/run",
            }
        ]
    }
    assert api.get("/_sandbox/faults").json() == added.json()
    assert api.delete("/_sandbox/faults").json() == {"data": []}


@pytest.mark.parametrize(
    "payload",
    [{"kind": "meteor"}, {"count": 2}, {"kind": "drop", "count": -1}, {"kind": "drop", "x": 1}, []],
)
def test_an_invalid_fault_is_refused(api: Api, payload: Any) -> None:
    response = api.post("/_sandbox/faults", payload)
    assert response.status_code == 400
    assert "fault" in response.json()["validation_errors"]


def test_latency_delays_the_answer_then_answers_normally(api: Api, sandbox: SandboxServer) -> None:
    sandbox.faults.set(Fault(kind="latency", latency_ms=150, match="/v1/syncs"))
    started = time.monotonic()
    response = api.get("/v1/syncs")
    assert time.monotonic() - started >= 0.15
    assert response.status_code == 200
    assert len(response.json()["data"]) == 3


@pytest.mark.parametrize(
    ("collection_id", "sync_id", "label"),
    [
        ("salesforce:contact", SALESFORCE_SYNC_ID, "Salesforce"),
        ("hubspot:contact", HUBSPOT_SYNC_ID, "HubSpot"),
    ],
)
def test_timeout_504_writes_then_says_the_upstream_timed_out(
    api: Api, sandbox: SandboxServer, collection_id: str, sync_id: str, label: str
) -> None:
    record = sandbox.store.any_record(collection_id)
    sandbox.faults.set(Fault(kind="timeout_504"))
    key = "Title" if label == "Salesforce" else "jobtitle"
    response = api.mutate(
        kind="update",
        sync_id=sync_id,
        collection_id=collection_id,
        records=[{"upstream_id": record["upstream_id"], "data": {key: "Written"}}],
    )
    assert response.status_code == 504
    assert response.json() == {"error": f"Error: {label} API timed out", "docs": []}
    current = sandbox.store.get_record(sync_id, collection_id, record["upstream_id"])
    assert current is not None
    assert current["data"][key] == "Written"


def test_timeout_504_without_apply_writes_nothing(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    sandbox.faults.set(Fault(kind="timeout_504", apply=False))
    assert _retitle(api, contact, "Lost").status_code == 504
    assert _title(sandbox, contact) == contact["data"]["Title"]


def test_consumers_500_writes_then_reports_the_await_timeout(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    sandbox.faults.set(Fault(kind="consumers_500"))
    response = _retitle(api, contact, "Saved upstream")
    assert response.status_code == 500
    assert response.json() == {
        "error": "Error: Timed out waiting for consumers to process the mutation",
        "docs": [],
    }
    assert _title(sandbox, contact) == "Saved upstream"


def test_rate_limit_429_carries_retry_after_and_writes_nothing(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    api.post("/_sandbox/faults", {"kind": "rate_limit_429", "retry_after": 7})
    response = _retitle(api, contact, "Throttled")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {"summary": "Too Many Requests"}
    assert _title(sandbox, contact) == contact["data"]["Title"]
    # count=1: the next request goes through.
    assert _retitle(api, contact, "Second try").status_code == 200
    assert _title(sandbox, contact) == "Second try"


@pytest.mark.parametrize(("status", "expected"), [(None, 502), (503, 503)])
def test_garbage_answers_html_that_is_not_json(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any], status: int | None, expected: int
) -> None:
    sandbox.faults.set(Fault(kind="garbage", status=status))
    response = _retitle(api, contact, "Garbled")
    assert response.status_code == expected
    assert response.headers["Content-Type"].startswith("text/html")
    assert "nginx" in response.text
    with pytest.raises(ValueError):
        json.loads(response.text)
    assert _title(sandbox, contact) == contact["data"]["Title"]


def test_error_500_is_a_plain_internal_error_and_writes_nothing(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    sandbox.faults.set(Fault(kind="error_500"))
    response = _retitle(api, contact, "Nope")
    assert response.status_code == 500
    assert response.json() == {"error": "Error: internal error"}
    assert _title(sandbox, contact) == contact["data"]["Title"]


def _raw_mutation(sandbox: SandboxServer, record: dict[str, Any], title: str) -> None:
    parts = urlsplit(sandbox.url)
    assert parts.hostname is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = json.dumps(
        {
            "kind": "update",
            "sync_id": record["sync_id"],
            "collection_id": record["collection_id"],
            "records": [{"upstream_id": record["upstream_id"], "data": {"Title": title}}],
        }
    )
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Content-Type": "application/json"}
    try:
        connection.request("POST", "/v1/mutations/run", body=body, headers=headers)
        connection.getresponse()
    finally:
        connection.close()


@pytest.mark.parametrize(("apply", "applied"), [(True, True), (False, False)])
def test_drop_closes_the_connection_without_an_answer(
    sandbox: SandboxServer, contact: dict[str, Any], apply: bool, applied: bool
) -> None:
    sandbox.faults.set(Fault(kind="drop", apply=apply))
    with pytest.raises(http.client.RemoteDisconnected):
        _raw_mutation(sandbox, contact, "Dropped")
    expected = "Dropped" if applied else contact["data"]["Title"]
    assert _title(sandbox, contact) == expected


def test_drop_is_a_connection_error_for_requests(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    sandbox.faults.set(Fault(kind="drop"))
    with pytest.raises(requests.ConnectionError):
        _retitle(api, contact, "Dropped")
    assert _retitle(api, contact, "After the drop").status_code == 200


def test_count_limits_how_many_requests_a_fault_affects(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    sandbox.faults.set(Fault(kind="error_500", count=2))
    assert [_retitle(api, contact, "x").status_code for _ in range(3)] == [500, 500, 200]
    assert sandbox.faults.active() == []


def test_count_zero_lasts_until_cleared(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    sandbox.faults.set(Fault(kind="error_500", count=0))
    assert [_retitle(api, contact, "x").status_code for _ in range(3)] == [500, 500, 500]
    sandbox.faults.clear()
    assert _retitle(api, contact, "x").status_code == 200


def test_faults_are_consumed_in_the_order_they_were_set(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    sandbox.faults.set(Fault(kind="rate_limit_429"))
    sandbox.faults.set(Fault(kind="timeout_504"))
    statuses = [_retitle(api, contact, "x").status_code for _ in range(3)]
    assert statuses == [429, 504, 200]


def test_a_fault_only_hits_paths_under_its_match(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    sandbox.faults.set(Fault(kind="error_500", match="/v1/records", count=0))
    assert api.get("/v1/syncs").status_code == 200
    assert _retitle(api, contact, "x").status_code == 200
    assert api.get("/v1/records").status_code == 500


def test_control_endpoints_are_never_faulted(api: Api, sandbox: SandboxServer) -> None:
    sandbox.faults.set(Fault(kind="error_500", match="/", count=0))
    assert api.get("/v1/syncs").status_code == 500
    assert api.get("/_sandbox/faults").status_code == 200
    assert api.delete("/_sandbox/faults").status_code == 200
    assert api.get("/v1/syncs").status_code == 200


def test_requests_without_a_token_do_not_use_up_a_fault(
    sandbox: SandboxServer, make_api: Any
) -> None:
    sandbox.faults.set(Fault(kind="error_500", match="/v1/syncs"))
    assert make_api(None).get("/v1/syncs").status_code == 401
    assert len(sandbox.faults.active()) == 1


def test_reset_restores_the_data_and_clears_faults(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    assert _retitle(api, contact, "Changed").status_code == 200
    sandbox.faults.set(Fault(kind="error_500", match="/v1/syncs", count=0))
    response = api.post("/_sandbox/reset")
    assert response.status_code == 200
    assert response.json() == {"records": 6000}
    assert sandbox.faults.active() == []
    assert _title(sandbox, contact) == contact["data"]["Title"]
    sandbox.faults.set(Fault(kind="latency"))
    sandbox.store.reset()
    assert sandbox.faults.active() == []


def test_the_fault_command_switches_faults_on_a_running_sandbox(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--url", sandbox.url, "--token", DEFAULT_TOKEN]
    argv = ["fault", *common, "timeout_504", "--count", "2", "--no-apply", "--match", "/v1/"]
    assert main(argv) == 0
    assert sandbox.faults.active() == [
        Fault(kind="timeout_504", count=2, apply=False, match="/v1/")
    ]
    assert main(["fault", *common]) == 0
    assert '"timeout_504"' in capsys.readouterr().out
    assert main(["fault", *common, "--clear"]) == 0
    assert sandbox.faults.active() == []
    assert main(["fault", "--url", sandbox.url, "--token", "wrong", "drop"]) == 1
    assert "401" in capsys.readouterr().err
    assert sandbox.faults.active() == []


@pytest.mark.parametrize(
    ("kind", "status", "content_type", "body"),
    [
        ("proxy_502", 502, "text/html", "<center>nginx</center>"),
        ("unavailable_503", 503, "text/plain", "no healthy upstream"),
        ("empty_200", 200, "application/json", ""),
        ("no_content_204", 204, None, ""),
    ],
)
@pytest.mark.parametrize("apply", [True, False])
def test_misanswering_faults_write_first_unless_told_not_to(
    api: Api,
    sandbox: SandboxServer,
    contact: dict[str, Any],
    kind: str,
    status: int,
    content_type: str | None,
    body: str,
    apply: bool,
) -> None:
    sandbox.faults.set(Fault(kind=kind, apply=apply))
    response = _retitle(api, contact, "Written anyway")
    assert response.status_code == status
    assert response.headers.get("Content-Type", "").split(";")[0] == (content_type or "")
    if body:
        assert body in response.text
    else:
        assert response.content == b""
    expected = "Written anyway" if apply else contact["data"]["Title"]
    assert _title(sandbox, contact) == expected


def _awaiting(api: Api, record: dict[str, Any], consumer_id: str, timeout_ms: int) -> Any:
    return api.mutate(
        kind="update",
        sync_id=record["sync_id"],
        collection_id=record["collection_id"],
        records=[{"upstream_id": record["upstream_id"], "data": {"Title": "Awaited"}}],
        await_consumer_ids=[consumer_id],
        await_consumers_timeout=timeout_ms,
    )


@pytest.mark.parametrize("consumer_id", [*CONSUMER_IDS, WAREHOUSE_CONSUMER_ID])
def test_an_awaited_consumer_delays_the_answer_until_it_confirms(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any], consumer_id: str
) -> None:
    started = time.monotonic()
    response = _awaiting(api, contact, consumer_id, 5000)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed >= CONFIRM_MS[consumer_id] / 1000
    assert elapsed < 5.0


def test_late_consumers_let_the_await_time_out_with_the_documented_500(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    sandbox.faults.set(Fault(kind="consumers_late"))
    started = time.monotonic()
    response = _awaiting(api, contact, CONSUMER_IDS[0], 300)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 500
    assert response.json() == {
        "error": "Error: Timed out waiting for consumers to process the mutation",
        "docs": [],
    }
    assert _title(sandbox, contact) == "Awaited"
    # count=1: the next await is confirmed in time again.
    assert _awaiting(api, contact, CONSUMER_IDS[0], 5000).status_code == 200


def test_an_await_timeout_shorter_than_the_consumer_is_the_documented_500(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    slowest = max(CONFIRM_MS, key=CONFIRM_MS.__getitem__)
    response = _awaiting(api, contact, slowest, CONFIRM_MS[slowest] // 2)
    assert response.status_code == 500
    assert _title(sandbox, contact) == "Awaited"


def test_late_consumers_change_nothing_without_an_await(
    api: Api, sandbox: SandboxServer, contact: dict[str, Any]
) -> None:
    sandbox.faults.set(Fault(kind="consumers_late"))
    assert _retitle(api, contact, "Not awaited").status_code == 200


def test_client_commands_default_to_the_sandbox_port_from_the_environment(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = urlsplit(sandbox.url).port
    monkeypatch.setenv("SANDBOX_PORT", str(port))
    monkeypatch.setenv("SANDBOX_TOKEN", DEFAULT_TOKEN)
    assert main(["fault", "empty_200"]) == 0
    assert [f.kind for f in sandbox.faults.active()] == ["empty_200"]
    assert main(["reset"]) == 0
    assert sandbox.faults.active() == []


@pytest.mark.parametrize("command", ["fault", "reset"])
def test_client_commands_show_url_in_their_help(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SANDBOX_PORT", "9123")
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    assert "--url" in help_text
    assert "$SANDBOX_PORT" in help_text and "http://127.0.0.1:9123" in help_text
