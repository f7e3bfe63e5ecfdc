"""Reminder delivery: rendering (jinja2 templates in `ar/templates/`), letters as PDF, channels (SMTP, outbox,
signed webhook) and the worker that sends what dunning runs decided, once, with retries."""

from __future__ import annotations

from ar.delivery.channels import Channel, DeliveryError, OutboxChannel, SmtpChannel, WebhookChannel
from ar.delivery.renderer import JinjaRenderer, money_format
from ar.delivery.worker import DeliveryWorker, build_delivery

__all__ = ["Channel", "DeliveryError", "DeliveryWorker", "JinjaRenderer", "OutboxChannel", "SmtpChannel",
           "WebhookChannel", "build_delivery", "money_format"]
