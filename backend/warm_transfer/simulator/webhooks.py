"""Requests to the app, made as Twilio makes them: signed, with an idempotency token, in order.

Every request is signed with `X-Twilio-Signature` over the URL Twilio calls (the app's
PUBLIC_BASE_URL + path) and the POST parameters, keyed by the auth token: exactly what
`RequestValidator.validate` checks. The simulator reaches the app only (in-process); a URL on
another host (an audio file, a Twimlet) is never fetched.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from warm_transfer.simulator.tasks import TaskSet

logger = logging.getLogger(__name__)

# Twilio waits this long for an answer, then gives up (error 11205). Real seconds, never scaled:
# a slow test machine must not look like a broken app.
WEBHOOK_TIMEOUT = 15.0


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    method: str  # GET or POST
    params: Mapping[str, str]


class WebhookSender:
    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        auth_token: str,
        public_base_url: str,
        tasks: TaskSet,
        timeout: float = WEBHOOK_TIMEOUT,
    ) -> None:
        self._client = client
        self._validator = RequestValidator(auth_token)
        self._base_url = public_base_url.rstrip("/")
        self._tasks = tasks
        self._timeout = timeout

    def reaches(self, url: str) -> bool:
        return url.startswith(self._base_url + "/")

    def signature(self, url: str, params: Mapping[str, str]) -> str:
        signature: str = self._validator.compute_signature(url, dict(params))
        return signature

    async def send(self, hook: Webhook) -> httpx.Response | None:
        """The app's answer, or None when there is none (logged, as Twilio's debugger would)."""
        if not self.reaches(hook.url):
            logger.info("not requested (the simulator reaches only the app): %s", hook.url)
            return None
        url, form = hook.url.split("#", 1)[0], dict(hook.params)
        if hook.method == "GET":
            url, form = url + ("&" if "?" in url else "?") + urlencode(form), {}
        headers = {
            "X-Twilio-Signature": self.signature(url, form),
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "User-Agent": "TwilioProxy/1.1",
        }
        # The request runs on by itself, as the app keeps working after Twilio has given up.
        request = self._tasks.spawn(
            self._client.request(hook.method, url, data=form or None, headers=headers),
            name=f"webhook {hook.method} {url}",
        )
        if request is None:
            return None
        done, _ = await asyncio.wait({request}, timeout=self._timeout)
        if not done:
            logger.warning("%s %s: no answer within %.0f s", hook.method, url, self._timeout)
            return None
        if (error := request.exception()) is not None:
            logger.warning("%s %s failed: %r", hook.method, url, error)
            return None
        response = request.result()
        if response.status_code >= 400:
            logger.warning("%s %s answered %s", hook.method, url, response.status_code)
        return response


class Outbox:
    """Status callbacks, delivered one at a time in the order they were raised (so per call and
    per conference in order, as the app may rely on SequenceNumbers alone)."""

    def __init__(self, *, deliver: Callable[[Webhook], Awaitable[object]], tasks: TaskSet) -> None:
        self._deliver = deliver
        self._tasks = tasks
        self._pending: deque[Webhook] = deque()
        self._task: asyncio.Task[None] | None = None

    def put(self, hook: Webhook) -> None:
        self._pending.append(hook)
        if self._task is None or self._task.done():
            self._task = self._tasks.spawn(self._drain(), name="status callbacks")

    async def _drain(self) -> None:
        while self._pending:
            await self._deliver(self._pending.popleft())
