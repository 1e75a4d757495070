"""What the admin adds on top of the raw API call when it changes one field of one record.

Baseline: a bare `requests.post` to the in-process sandbox's `/v1/mutations/run`.
Ours: the same update through `SequinClient.run_mutation`, and through `mutation_run`, which
journals the attempt as pending, calls the client, journals the answer and indexes the record.
"""

from __future__ import annotations

import itertools
from typing import Any

import requests

from bench.common import Environment, Row, measure_interleaved, print_table, ratio
from sequin_admin.mutations.models import Outcome, Source
from sequin_admin.mutations.run import mutation_run
from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN, SALESFORCE_SYNC_ID
from sequin_admin.sequin import MutationRequest, SequinClient

COLLECTION_ID = "salesforce:contact"
ROUNDS = 200
WARMUP = 5
# Two values taken in turn: every call, whichever variant makes it, really changes the field.
VALUES = ("Benchmark Title A", "Benchmark Title B")
TIMEOUT = 10


def run(env: Environment) -> list[str]:
    record = env.sandbox.store.any_record(COLLECTION_ID)
    upstream_id = str(record["upstream_id"])
    url = f"{env.sandbox.url}/v1/mutations/run"
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    turn = itertools.count()

    def request() -> MutationRequest:
        return MutationRequest(
            kind="update",
            sync_id=SALESFORCE_SYNC_ID,
            collection_id=COLLECTION_ID,
            records=({"upstream_id": upstream_id, "data": {"Title": VALUES[next(turn) % 2]}},),
        )

    def raw() -> None:
        # A new connection per call: what a bare requests.post costs.
        response = requests.post(url, json=request().body(), headers=headers, timeout=TIMEOUT)
        response.raise_for_status()

    session = requests.Session()
    session.headers.update(headers)

    def raw_keepalive() -> None:
        # The client keeps its connection alive; this is the raw floor with that advantage.
        response = session.post(url, json=request().body(), timeout=TIMEOUT)
        response.raise_for_status()

    client = SequinClient(base_url=env.sandbox.url, token=DEFAULT_TOKEN)

    def through_client() -> None:
        client.run_mutation(request())

    def journaled() -> None:
        mutation, _ = mutation_run(request=request(), user=None, source=Source.COMMAND, seen={})
        if mutation.outcome != Outcome.SUCCEEDED:
            raise RuntimeError(f"mutation #{mutation.pk}: {mutation.outcome}")

    try:
        timings = measure_interleaved(
            {
                "raw": raw,
                "raw keep-alive": raw_keepalive,
                "client": through_client,
                "journaled": journaled,
            },
            rounds=ROUNDS,
            warmup=WARMUP,
        )
    finally:
        client.close()
        session.close()
    _check_last_value_landed(env, upstream_id)

    ms = {name: timing.ms for name, timing in timings.items()}
    client_vs_raw = ratio(ms["client"], ms["raw"])
    journaled_vs_raw = ratio(ms["journaled"], ms["raw"])
    table = [
        Row(
            "update 1 field", "requests.post", ms["raw"], "SequinClient.run_mutation", ms["client"]
        ),
        Row(
            "update 1 field",
            "requests.post",
            ms["raw"],
            "mutation_run (journaled)",
            ms["journaled"],
        ),
        Row(
            "update 1 field",
            "Session.post (keep-alive)",
            ms["raw keep-alive"],
            "SequinClient.run_mutation",
            ms["client"],
        ),
        Row(
            "update 1 field",
            "Session.post (keep-alive)",
            ms["raw keep-alive"],
            "mutation_run (journaled)",
            ms["journaled"],
        ),
    ]
    print_table(
        f"Mutation call: one field of one record, in-process sandbox, median of {ROUNDS} "
        f"per variant, {env.database}",
        table,
        notes=[
            f"client/raw {client_vs_raw}, journaled/raw {journaled_vs_raw}",
            f"journal + index per call: {ms['journaled'] - ms['client']:.2f} ms "
            f"(journaled - client)",
        ],
    )
    return [
        f"mutation_call: client/raw {client_vs_raw}, journaled/raw {journaled_vs_raw} "
        f"({ms['raw']:.2f} / {ms['client']:.2f} / {ms['journaled']:.2f} ms)"
    ]


def _check_last_value_landed(env: Environment, upstream_id: str) -> None:
    """The calls changed the record for real: it holds one of the values sent."""
    stored: Any = env.sandbox.store.get_record(SALESFORCE_SYNC_ID, COLLECTION_ID, upstream_id)
    if stored is None or stored["data"].get("Title") not in VALUES:
        raise RuntimeError("the sandbox's record does not hold the values sent")
