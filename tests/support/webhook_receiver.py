"""A real HTTP receiver for webhook subscriptions: checks every delivery's signature with the `standardwebhooks`
package, answers 500 to the first `fail_first` requests and 200 afterwards, and can hold a request open (a worker
killed mid-call). Runs in a thread of the test process."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    webhook_id: str
    envelope: dict[str, Any]
    verified_by: frozenset[int]  # indexes of the secrets whose signature checks out
    status: int  # what the receiver answered
    signatures: int  # how many signatures the header carried

    @property
    def position(self) -> int:
        value: int = self.envelope["id"]
        return value

    @property
    def aggregate_id(self) -> str:
        value: str = self.envelope["aggregate"]["id"]
        return value


@dataclass
class Receiver:
    secrets: list[str]
    fail_first: int = 0
    always_fail: bool = False
    hold_first: bool = False  # the first request waits for `release` before answering
    received: list[Received] = field(default_factory=list)
    url: str = ""
    arrived: threading.Event = field(default_factory=threading.Event)  # set when a held request has arrived
    held_id: str | None = None  # its webhook-id
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def _handle(self, body: str, headers: dict[str, str]) -> int:
        verified = set()
        for n, secret in enumerate(self.secrets):
            with contextlib.suppress(WebhookVerificationError):
                Webhook(secret).verify(body, headers)
                verified.add(n)
        with self._lock:
            held = self.hold_first and not self.received and not self.arrived.is_set()
            if held:
                self.held_id = headers.get("webhook-id")
                self.arrived.set()
        if held:
            self.release.wait(60)
        if not verified:
            return 400
        with self._lock:
            status = 500 if self.always_fail or len(self.received) < self.fail_first else 200
            self.received.append(Received(headers.get("webhook-id", ""), json.loads(body), frozenset(verified),
                                          status, len(headers.get("webhook-signature", "").split())))
        return status


@contextlib.contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
            status = receiver._handle(body, {k.lower(): v for k, v in self.headers.items()})
            with contextlib.suppress(OSError):
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else f"failing on purpose ({status})".encode())

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the default backlog (5) refuses connections when senders deliver in parallel

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
