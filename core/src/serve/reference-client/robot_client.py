"""A robot-side client written from the reference VLA server's documented client API.

Labs drive `switchyard serve` with the Python client that ships with FastCrest's `tether`.
This module behaves the way that client is documented to behave, so the compatibility tests
exercise Switchyard with the same requests, headers and retry decisions, without vendoring
the reference's code:

- the robot token travels in `X-Tether-Key`;
- `act(image, instruction, state, episode_id)` always sends all four fields: the image as
  base64 text ("" when there is none), the instruction ("" by default), the state (or null)
  and the episode id (or null);
- 401 and 422 are final; a 503 whose body says `degraded` (or `error: server-degraded`) is
  final unless `retry_on_degraded`; any other 503, and other failures, are retried up to
  `max_retries` times, sleeping `Retry-After` seconds when the server gives it and an
  exponential backoff otherwise;
- `health()` never raises and returns the body (a non-JSON body reads as state "unknown");
- `episode()` yields a handle that stamps one generated episode id on every `act`.

`requests_sent` counts HTTP requests, so tests can tell a retried call from a final one.
"""
from __future__ import annotations

import base64
import contextlib
import time
import uuid
from typing import Any, Iterator

import httpx


class RobotClientError(Exception):
    def __init__(self, message: str, status_code: int | None = None, body: Any = None):
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class AuthError(RobotClientError):
    """401: the robot token is missing or wrong."""


class ValidationError(RobotClientError):
    """422: the server refused the request body."""


class NotReadyError(RobotClientError):
    """503 while the server loads or warms up; worth retrying."""

    def __init__(self, message: str, state: str = "", **kw: Any):
        super().__init__(message, **kw)
        self.state = state


class DegradedError(RobotClientError):
    """503 after the circuit breaker opened; an operator has to act first."""

    def __init__(self, message: str, retry_after_s: float = 60.0, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("Retry-After")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def classify(resp: httpx.Response) -> RobotClientError | None:
    """The typed error for a response, or None for a 2xx."""
    if resp.status_code < 300:
        return None
    try:
        body: Any = resp.json()
    except ValueError:
        body = resp.text
    message = f"HTTP {resp.status_code}: {body!r}"[:500]
    if resp.status_code == 401:
        return AuthError(message, status_code=401, body=body)
    if resp.status_code == 422:
        return ValidationError(message, status_code=422, body=body)
    if resp.status_code == 503:
        state: Any = ""
        if isinstance(body, dict):
            state = body.get("state") or body.get("error") or ""
        if state == "degraded" or (isinstance(body, dict) and body.get("error") == "server-degraded"):
            return DegradedError(message, retry_after_s=_retry_after(resp) or 60.0, status_code=503, body=body)
        return NotReadyError(message, state=state if isinstance(state, str) else "", status_code=503, body=body)
    return RobotClientError(message, status_code=resp.status_code, body=body)


def image_to_text(image: Any) -> str:
    if image is None or image == "":
        return ""
    if isinstance(image, (bytes, bytearray)):
        return base64.b64encode(bytes(image)).decode("ascii")
    if isinstance(image, str):
        return image
    raise RobotClientError(f"cannot encode an image of type {type(image).__name__}")


class RobotClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        initial_backoff_s: float = 0.1,
        max_backoff_s: float = 1.6,
        retry_on_degraded: bool = False,
    ):
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.retry_on_degraded = retry_on_degraded
        self.requests_sent = 0
        self.sleeps: list[float] = []
        headers = {"X-Tether-Key": api_key} if api_key else {}

        def count(_request: httpx.Request) -> None:
            self.requests_sent += 1

        self.http = httpx.Client(headers=headers, timeout=timeout_s, event_hooks={"request": [count]})

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "RobotClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        attempt = 0
        backoff = self.initial_backoff_s
        while True:
            try:
                resp = self.http.request(method, self.base_url + path, **kw)
            except (httpx.NetworkError, httpx.TimeoutException) as e:
                if attempt >= self.max_retries:
                    raise RobotClientError(f"network error after {attempt} retries: {e}") from e
                self.sleeps.append(backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                attempt += 1
                continue
            err = classify(resp)
            if err is None:
                return resp
            if isinstance(err, (AuthError, ValidationError)):
                raise err
            if isinstance(err, DegradedError) and not self.retry_on_degraded:
                raise err
            if attempt >= self.max_retries:
                raise err
            wait = _retry_after(resp)
            if wait is None:
                wait = backoff
                backoff = min(backoff * 2, self.max_backoff_s)
            self.sleeps.append(wait)
            time.sleep(wait)
            attempt += 1

    def health(self) -> dict[str, Any]:
        resp = self.http.get(self.base_url + "/health")
        try:
            return resp.json()
        except ValueError:
            return {"status": "unknown", "state": "unknown", "raw": resp.text[:200]}

    def config(self) -> dict[str, Any]:
        return self._send("GET", "/config").json()

    def act(self, image: Any = None, instruction: str = "", state: list[float] | None = None, episode_id: str | None = None) -> dict[str, Any]:
        body = {"image": image_to_text(image), "instruction": instruction, "state": state, "episode_id": episode_id}
        return self._send("POST", "/act", json=body).json()

    @contextlib.contextmanager
    def episode(self, episode_id: str | None = None) -> Iterator["Episode"]:
        handle = Episode(self, episode_id or f"ep-{uuid.uuid4().hex[:12]}")
        try:
            yield handle
        finally:
            handle.closed = True


class Episode:
    def __init__(self, client: RobotClient, episode_id: str):
        self.client = client
        self.episode_id = episode_id
        self.closed = False
        self.calls = 0

    def act(self, image: Any = None, instruction: str = "", state: list[float] | None = None) -> dict[str, Any]:
        if self.closed:
            raise RobotClientError("episode already closed")
        self.calls += 1
        return self.client.act(image=image, instruction=instruction, state=state, episode_id=self.episode_id)
