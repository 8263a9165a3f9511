"""Automation fixtures: a real HTTP receiver on 127.0.0.1 (a thread running
``http.server``), allowed by ``RETAINER_WEBHOOK_ALLOW_HOSTS``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from retainer.automation import actions, webhooks
from retainer.automation.models import WebhookEndpoint
from retainer.lib import outbox


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """What the receiver got; ``down`` answers 503, ``delay`` sleeps before answering."""

    url: str
    requests: list[Received] = field(default_factory=list)
    down: bool = False
    delay: float = 0.0

    def accepted(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.answered < 300]


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.RETAINER_WEBHOOK_ALLOW_HOSTS = "127.0.0.1"
    settings.RETAINER_WEBHOOK_TIMEOUT = 1
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            delay = state.delay
            status = 503 if state.down else 204
            state.requests.append(Received(self.path, dict(self.headers), body, status))
            if delay:
                time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/retainer"
    yield state
    server.shutdown()
    server.server_close()


def make_endpoint(cast: Any, url: str, types: list[str] | None = None) -> WebhookEndpoint:
    return actions.do_create_endpoint(
        values={"url": url, "description": "Receiver", "event_types": types or ["category.saved"]},
        actor=cast.admin,
    )


def pump() -> int:
    """Run the outbox (queue deliveries), then send what is due; returns attempts made."""
    outbox.dispatch()
    return webhooks.send_due()
