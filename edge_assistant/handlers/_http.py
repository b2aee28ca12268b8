"""A small JSON-over-HTTP client on the standard library, shared by ``http`` and ``homeassistant``.

Blocking urllib calls run in a thread; TLS certificates are always verified (a private CA can be
given with ``ca_file``). Connection errors, timeouts and 5xx answers are retried with backoff;
a 4xx answer is final. Header values (tokens) never appear in errors or logs.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

__all__ = ["HttpClient", "Response"]


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, body, and the number of attempts it took."""

    status: int
    body: bytes
    attempts: int = 1

    def json(self) -> Any:
        """The body parsed as JSON (None when it is empty or not JSON)."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class HttpClient:
    """JSON requests with a per-request timeout and retries; ``headers`` are sent, never shown."""

    def __init__(self, headers: dict[str, str], timeout: float, retries: int, ca_file: str = "") -> None:
        self._headers = {"Content-Type": "application/json", "User-Agent": "edge-assistant", **headers}
        self.timeout = timeout
        self.retries = retries
        self._ssl = ssl.create_default_context(cafile=ca_file or None)

    def __repr__(self) -> str:
        return f"HttpClient(timeout={self.timeout}, retries={self.retries})"

    def _once(self, method: str, url: str, body: Any) -> Response:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method, headers=self._headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self._ssl) as answer:  # noqa: S310
                return Response(answer.status, answer.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read() or b"")

    async def request(self, method: str, url: str, body: Any = None) -> Response | str:
        """The response (any status, after retries of 5xx), or a text saying why none came."""
        problem = ""
        for attempt in range(1, self.retries + 2):
            try:
                response = await asyncio.to_thread(self._once, method, url, body)
            except TimeoutError:
                problem = f"no answer within {self.timeout:g} s"
            except urllib.error.URLError as exc:
                problem = f"cannot connect: {_reason(exc.reason)}"
            except (OSError, ValueError) as exc:
                problem = f"request failed: {_reason(exc)}"
            else:
                if response.status < 500 or attempt > self.retries:
                    return Response(response.status, response.body, attempt)
                problem = f"HTTP {response.status}"
            if attempt <= self.retries:
                await asyncio.sleep(0.2 * 2 ** (attempt - 1))
        return f"{problem} (after {self.retries + 1} attempts)"


def _reason(reason: Any) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({reason.verify_message})"
    if isinstance(reason, TimeoutError):
        return "timed out"
    return str(getattr(reason, "strerror", None) or reason)
