"""The HTTP side of a delivery: one POST, its outcome in plain values. Knows no model."""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

#: What the log keeps of a receiver's answer.
EXCERPT_CHARS = 500
USER_AGENT = "cobranca-webhooks/1"


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int

    @property
    def delivered(self) -> bool:
        """Only a 2xx answer counts; a redirect is not followed (the receiver's URL is what staff set)."""
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: tuple[float, float]) -> PostResult:
    started = time.monotonic()
    try:
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return PostResult(None, f"{type(exc).__name__}: {exc}"[:1000], "", _ms(started))
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return PostResult(response.status_code, error, response.text[:EXCERPT_CHARS], _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
