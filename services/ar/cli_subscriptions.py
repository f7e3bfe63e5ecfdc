"""`ar subscriptions listen`: a tiny local receiver for webhook subscriptions, to watch deliveries arrive (the README
tour) and to check their signatures."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated

import typer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

subscriptions_cli = typer.Typer(help="Webhook subscriptions out: a local receiver to watch deliveries.",
                                no_args_is_help=True)


def receiver(secrets: list[str]) -> type[BaseHTTPRequestHandler]:
    """A request handler that verifies each POST with one of `secrets` (Standard Webhooks) and prints the event:
    204 when the signature holds, 400 when it does not."""
    hooks = [Webhook(s) for s in secrets]

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            for hook in hooks:
                try:
                    event = hook.verify(body, headers)
                except WebhookVerificationError:
                    continue
                aggregate = event.get("aggregate") or {}
                typer.echo(f"{event.get('type')} #{event.get('id')} {aggregate.get('kind')} {aggregate.get('id')} "
                           f"({headers.get('webhook-id')}): {json.dumps(event.get('data'), ensure_ascii=False)}")
                self.send_response(204)
                self.end_headers()
                return
            typer.echo(f"refused {headers.get('webhook-id')}: no valid signature", err=True)
            self.send_response(400)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the events are printed instead."""

    return Receiver


@subscriptions_cli.command("listen")
def listen(
    secret: Annotated[list[str], typer.Option(help="the subscription's secret (whsec_...); repeat it during a "
                                                   "rotation")],
    port: Annotated[int, typer.Option(help="port to listen on")] = 9000,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
) -> None:
    """Receive deliveries on http://HOST:PORT/ (any path), verify their signatures, print type, id and data."""
    server = ThreadingHTTPServer((host, port), receiver(secret))
    typer.echo(f"listening on http://{host}:{port}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
