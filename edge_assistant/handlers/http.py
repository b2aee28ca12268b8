"""The ``http`` handler: POST each intent as JSON to a webhook (Node-RED, n8n, your own server).

The body is ``{"utterance_id", "intent", "slots", "targets", "entity", "text", "confidence",
"source"}``. A 2xx answer is success; if it is JSON with a ``reply`` string, that is the reply.
Timeouts, connection errors and 5xx are retried (``retries``); TLS certificates are verified.
"""

from __future__ import annotations

import os

from edge_assistant.errors import HandlerError
from edge_assistant.handlers._http import HttpClient
from edge_assistant.handlers.base import Call, Command, Outcome, entity_keys, intent_keys
from edge_assistant.handlers.settings import HttpSettings

__all__ = ["HttpHandler"]


class HttpHandler:
    """Webhook POSTs, once per intent or (``per_entity``) once per target."""

    def __init__(self, settings: HttpSettings, name: str = "http") -> None:
        self.name = name
        self.settings = settings
        headers = dict(settings.headers)
        if settings.token_env:
            token = os.environ.get(settings.token_env)
            if not token:
                raise HandlerError(f"[handlers.http] token_env: the variable {settings.token_env} is not set")
            headers["Authorization"] = f"Bearer {token}"
        self._client = HttpClient(headers, settings.request_timeout_s, settings.retries, settings.ca_file)

    def keys(self, command: Command) -> list[str | None]:
        """One call per intent, or one per matching target with ``per_entity``."""
        if self.settings.per_entity:
            return list(entity_keys(self.settings, command))
        return intent_keys(self.settings, command)

    async def handle(self, call: Call) -> Outcome:
        """POST the call; anything but a 2xx (after retries) is a failed outcome."""
        answer = await self._client.request("POST", self.settings.url, call.payload())
        if isinstance(answer, str):
            return Outcome(ok=False, error=f"webhook {self.settings.url}: {answer}")
        if not 200 <= answer.status < 300:
            return Outcome(ok=False, error=f"webhook {self.settings.url} answered HTTP {answer.status}")
        body = answer.json()
        reply = body.get("reply") if isinstance(body, dict) else None
        return Outcome(reply=reply if isinstance(reply, str) and reply else None)

    async def aclose(self) -> None:
        """Nothing to release: each request has its own connection."""
