"""Standard Webhooks signatures, checked against the service's clock.

The `standardwebhooks` package computes the signature (`Webhook.sign`: HMAC-SHA256 over `id.timestamp.body`, keyed
with the secret's bytes). Its `verify` is not called: it reads the wall clock (`datetime.now()`), where the tolerance
must be decided on the injected clock (a simulated one in demos and tests), and it raises a bare `ValueError` on a
malformed signature list. So the headers are parsed here (each malformed one is a 400 naming it), the timestamp is
checked here, and each `v1,` signature given is compared in constant time with the package's, for every secret the
source accepts (several during a rotation)."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

TOLERANCE = timedelta(minutes=5)
ID_PATTERN = re.compile(r"[\x21-\x7E]{1,255}")
TIMESTAMP_PATTERN = re.compile(r"[0-9]{1,12}")
SIGNATURE_PATTERN = re.compile(r"v[0-9]+[a-z]?,[A-Za-z0-9+/=_-]+")


class MalformedHeader(Exception):
    """A 400: the delivery cannot be checked at all. `header` names it as the sender wrote it."""

    def __init__(self, header: str, detail: str) -> None:
        super().__init__(detail)
        self.header, self.detail = header, detail


class NotAuthentic(Exception):
    """A 401: stale or future timestamp, or no signature made with a secret the source accepts."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class SignedHeaders:
    webhook_id: str
    timestamp: datetime
    signatures: tuple[bytes, ...]  # the v1 ones, decoded


def parse_headers(headers: Mapping[str, str]) -> SignedHeaders:
    webhook_id = headers.get("webhook-id")
    if not webhook_id:
        raise MalformedHeader("webhook-id", "the webhook-id header is missing or empty")
    if not ID_PATTERN.fullmatch(webhook_id):
        raise MalformedHeader("webhook-id", "webhook-id must be 1 to 255 visible ASCII characters (no space)")
    stamp = headers.get("webhook-timestamp")
    if not stamp:
        raise MalformedHeader("webhook-timestamp", "the webhook-timestamp header is missing or empty")
    if not TIMESTAMP_PATTERN.fullmatch(stamp):
        raise MalformedHeader("webhook-timestamp", "webhook-timestamp must be whole seconds since 1970 (digits)")
    signature = headers.get("webhook-signature")
    if not signature or not signature.strip():
        raise MalformedHeader("webhook-signature", "the webhook-signature header is missing or empty")
    v1: list[bytes] = []
    for token in signature.split():
        if not SIGNATURE_PATTERN.fullmatch(token):
            raise MalformedHeader("webhook-signature", "webhook-signature is a space-separated list of "
                                  "`v1,<base64 signature>`")
        version, encoded = token.split(",", 1)
        if version != "v1":
            continue  # another scheme (v1a: asymmetric) is not one this service checks
        try:
            v1.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            raise MalformedHeader("webhook-signature", "a v1 signature is not valid base64") from None
    return SignedHeaders(webhook_id, datetime.fromtimestamp(int(stamp), tz=UTC), tuple(v1))


def verify(signed: SignedHeaders, body: str, secrets: Sequence[str], now: datetime) -> None:
    """Raises `NotAuthentic` unless the timestamp is within 5 minutes of `now` and one of the signatures was made
    with one of `secrets`."""
    if signed.timestamp < now - TOLERANCE:
        raise NotAuthentic("the webhook-timestamp is more than 5 minutes old (a replayed or delayed delivery)")
    if signed.timestamp > now + TOLERANCE:
        raise NotAuthentic("the webhook-timestamp is more than 5 minutes ahead of this service's clock")
    for secret in secrets:
        expected = Webhook(secret).sign(signed.webhook_id, signed.timestamp, body).split(",", 1)[1]
        expected_bytes = base64.b64decode(expected)
        if any(hmac.compare_digest(expected_bytes, given) for given in signed.signatures):
            return
    raise NotAuthentic("no signature in webhook-signature matches a secret of this source")
