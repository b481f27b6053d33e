"""Robot-side scenarios for the reference-compatibility tests.

    python3 scenarios.py SCENARIO BASE_URL TOKEN

Each scenario drives a running `switchyard serve` the way a robot using the reference client
does and prints one JSON object describing what it saw; the vitest suite
(reference-compat.process.test.ts) makes the assertions.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Callable

import httpx

from robot_client import (
    AuthError,
    DegradedError,
    NotReadyError,
    RobotClient,
    RobotClientError,
    ValidationError,
    classify,
)

GOOD_STATE = [0.01, 0.0, 0.02, 0.0]
# The flaky fixture answers NaN once state[0] exceeds its limit: a failure in the real worker.
FAILING_STATE = [1000.0, 0.0, 0.0, 0.0]


def outcome(fn: Callable[[], Any], client: RobotClient) -> dict[str, Any]:
    """Runs one client call; reports the result or the typed error and the requests it took."""
    before = client.requests_sent
    sleeps_before = len(client.sleeps)
    out: dict[str, Any] = {}
    try:
        out["result"] = fn()
        out["error"] = None
    except RobotClientError as e:
        out["error"] = type(e).__name__
        out["status_code"] = e.status_code
        out["body"] = e.body
        if isinstance(e, NotReadyError):
            out["state"] = e.state
        if isinstance(e, DegradedError):
            out["retry_after_s"] = e.retry_after_s
    out["requests"] = client.requests_sent - before
    out["sleeps"] = client.sleeps[sleeps_before:]
    return out


def raw_act(base: str, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    resp = httpx.post(base + "/act", json=body, headers=headers, timeout=30)
    err = classify(resp)
    try:
        parsed: Any = resp.json()
    except ValueError:
        parsed = resp.text[:200]
    return {
        "status_code": resp.status_code,
        "retry_after": resp.headers.get("Retry-After"),
        "body": parsed,
        "classified": None if err is None else type(err).__name__,
        "classified_state": getattr(err, "state", None),
    }


def warmup(base: str, token: str) -> dict[str, Any]:
    """Polls /health from before the server listens until it is ready; acts while it warms up."""
    history: list[dict[str, Any]] = []
    probe: dict[str, Any] | None = None
    retried: dict[str, Any] = {}
    retrier: threading.Thread | None = None

    def retry_through_warmup() -> None:
        with RobotClient(base, api_key=token, max_retries=120) as client:
            retried["outcome"] = outcome(lambda: client.act(state=GOOD_STATE, episode_id="ep-warmup"), client)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            resp = httpx.get(base + "/health", timeout=5)
        except httpx.TransportError:
            time.sleep(0.01)
            continue
        body = resp.json()
        seen = {"status_code": resp.status_code, "status": body.get("status"), "state": body.get("state"), "model_loaded": body.get("model_loaded")}
        if not history or history[-1] != seen:
            history.append(seen)
        if body.get("state") == "ready":
            break
        if probe is None and body.get("state") in ("loading", "warming"):
            body_sent = {"image": "", "instruction": "", "state": GOOD_STATE, "episode_id": None}
            probe = raw_act(base, body_sent, {"X-Tether-Key": token})
            # The client's own retry loop, honouring Retry-After, carries the call over the
            # warm-up; it runs beside the polling so the polling sees every state.
            retrier = threading.Thread(target=retry_through_warmup)
            retrier.start()
        time.sleep(0.005)
    if retrier is not None:
        retrier.join(timeout=150)
    return {"history": history, "probe": probe, "retried": retried.get("outcome")}


def auth(base: str, token: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with RobotClient(base) as anonymous:
        out["no_key"] = outcome(lambda: anonymous.act(state=GOOD_STATE), anonymous)
        out["no_key_config"] = outcome(lambda: anonymous.config(), anonymous)
        out["health_without_key"] = anonymous.health()
    with RobotClient(base, api_key=token + "x") as wrong:
        out["wrong_key"] = outcome(lambda: wrong.act(state=GOOD_STATE), wrong)
    with RobotClient(base, api_key=token) as right:
        out["right_key"] = outcome(lambda: right.act(state=GOOD_STATE), right)
        out["config"] = outcome(lambda: right.config(), right)
    body = {"image": "", "instruction": "", "state": GOOD_STATE, "episode_id": None}
    out["bearer_right"] = raw_act(base, body, {"Authorization": f"Bearer {token}"})
    out["bearer_wrong"] = raw_act(base, body, {"Authorization": "Bearer nope"})
    return out


def bodies(base: str, token: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(64))
    with RobotClient(base, api_key=token) as c:
        out["defaults"] = outcome(lambda: c.act(state=GOOD_STATE), c)
        out["jpeg_bytes"] = outcome(lambda: c.act(image=jpeg, instruction="pick up the cup", state=GOOD_STATE, episode_id="ep-bodies"), c)
        out["data_url"] = outcome(lambda: c.act(image="data:image/jpeg;base64,/9j/4AAQ", instruction="", state=GOOD_STATE, episode_id="ep-bodies"), c)
        out["state_null"] = outcome(lambda: c.act(image=jpeg, instruction="look", state=None), c)
        out["state_short"] = outcome(lambda: c.act(state=[0.1, 0.2]), c)
    out["state_strings"] = raw_act(base, {"image": "", "instruction": "", "state": ["a", "b", "c", "d"], "episode_id": None}, {"X-Tether-Key": token})
    return out


def episodes(base: str, token: str) -> dict[str, Any]:
    seen: dict[str, list[str]] = {}
    with RobotClient(base, api_key=token) as c:
        for i in range(16):
            with c.episode() as ep:
                slots = [ep.act(instruction="balance", state=[0.01 * k, 0.0, 0.02, 0.0])["slot"] for k in range(5)]
                seen[ep.episode_id] = slots
    return {"episodes": seen}


def degrade(base: str, token: str) -> dict[str, Any]:
    """Fails requests until both slots drain, reading /health after each one."""
    history: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    with RobotClient(base, api_key=token, max_retries=0) as c:
        for i in range(60):
            failures.append(outcome(lambda: c.act(state=FAILING_STATE, episode_id=f"bad-{i}"), c))
            resp = httpx.get(base + "/health", timeout=5)
            body = resp.json()
            seen = {"status_code": resp.status_code, "state": body["state"], "drain": body["drain"], "consecutive_crashes": body["consecutive_crashes"], "max_consecutive_crashes": body["max_consecutive_crashes"], "slots": [{"slot": s["slot"], "drained": s["drained"]} for s in body["slots"]]}
            if not history or {k: v for k, v in history[-1].items() if k != "consecutive_crashes"} != {k: v for k, v in seen.items() if k != "consecutive_crashes"}:
                history.append(seen)
            if body["state"] == "degraded":
                break
    with RobotClient(base, api_key=token, max_retries=3) as c:
        degraded_call = outcome(lambda: c.act(state=GOOD_STATE, episode_id="after"), c)
    raw = raw_act(base, {"image": "", "instruction": "", "state": GOOD_STATE, "episode_id": None}, {"X-Tether-Key": token})
    return {"history": history, "first_failure": failures[0], "degraded_call": degraded_call, "raw": raw}


SCENARIOS = {"warmup": warmup, "auth": auth, "bodies": bodies, "episodes": episodes, "degrade": degrade}

if __name__ == "__main__":
    name, base_url, key = sys.argv[1], sys.argv[2], sys.argv[3]
    print(json.dumps(SCENARIOS[name](base_url, key)))
