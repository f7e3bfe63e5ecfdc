"""Settings from the environment (prefix `AR_`), read once at start-up."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat
from stdnum.fr import siren

EVENT_STORE_MIN_CONNECTIONS = 2  # kept open by each process's event store

Background = Literal["process", "threads", "external"]


def sized_to_cores(per_core: int = 4, minimum: int = 8) -> int:
    """A pool or threadpool size for this machine: `per_core` a core, at least `minimum`. One process runs Python
    on one core at a time; beyond a few connections a core, threads only wait for the GIL and hold connections."""
    return max(minimum, per_core * (os.cpu_count() or 1))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AR_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///./var/ar.sqlite",
        description="sqlite:///path/to/ar.sqlite (embedded; events go to a sibling *.events.sqlite file) or "
        "postgresql://user:password@host:port/dbname (events and read models in one database)",
    )
    pool_size: int = Field(default_factory=sized_to_cores, ge=1, description="database connections "
                           "of each pool (the event store's, our tables'), opened as needed; default 4 per core, "
                           "at least 8")
    threadpool_size: int = Field(default_factory=sized_to_cores, ge=1, description="worker threads for "
                                 "synchronous routes; default 4 per core, at least 8 (one process holds the GIL: "
                                 "more threads only queue)")
    projection_interval_s: float = Field(0.2, description="polling interval of the projections (events saved by "
                                         "other processes)")
    projection_batch_interval_ms: int = Field(50, ge=0, le=10_000, description="after a save (in `ar worker`: a "
                                              "new event), the projections catch up within this many "
                                              "milliseconds, and at most once per interval: the saves meanwhile "
                                              "go in one batch (a read with min_position wakes them at once)")
    idempotency_ttl_hours: int = Field(48, description="how long Idempotency-Key responses are kept (at least 24)")
    background: Background | None = Field(None, description="where `ar serve` runs the background work "
                                          "(projections, dunning sweeper, delivery, subscriptions): `process`, one "
                                          "`ar worker` child it starts, restarts and stops (the API processes run "
                                          "none: their CPU goes to requests); `threads`, threads inside each API "
                                          "process; `external`, nowhere (operators run `ar worker`). Default: "
                                          "`process` on PostgreSQL, `threads` on SQLite (two processes writing "
                                          "one file wait on its lock: measured slower) and on a simulated clock "
                                          "without a clock_file (a child could not share it). AR_RUN_PROJECTIONS "
                                          "and AR_RUN_DUNNING say "
                                          "which of the work runs at all, wherever this puts it; both false is "
                                          "`external`. An app built in a test process (create_app) uses threads")
    run_projections: bool = Field(True, description="run the read-model projections with `ar serve` (in its "
                                  "background process or threads, per AR_BACKGROUND); set false when `ar worker` "
                                  "runs them")
    simulated_clock: bool = Field(False, description="expose POST /v1/admin/clock (demos and tests only)")
    clock_file: Path | None = Field(None, description="with simulated_clock: keep the simulated time in this file, "
                                    "shared by a server and its workers")
    clock_start: str | None = Field(None, description="with simulated_clock: where it starts (YYYY-MM-DD is 09:00 "
                                    "Paris time; YYYY-MM-DDTHH:MM); default now; `ar serve --start` sets it")
    create_tables: bool = Field(True, description="let the event store create its tables at start-up; set false on "
                                "processes that start together once one has (concurrent set-up can fail)")
    # Access -----------------------------------------------------------------------------------------------------
    admin_key: str | None = Field(None, pattern=r"^ark_[a-z0-9]{12}_[A-Za-z0-9]{40}$", description="an admin API "
                                  "key token (ark_<12 [a-z0-9]>_<40 [A-Za-z0-9]>) installed at start as the key "
                                  "named \"bootstrap\" unless a key with its id exists (containers, tests)")
    rate_limit_per_s: float = Field(1000.0, ge=0, description="requests per second each API key may make on "
                                    "average (per process); 0: no limit")
    rate_limit_burst: int = Field(2000, ge=0, description="requests an API key may make at once above the average; "
                                  "0: no limit")
    # Dunning ----------------------------------------------------------------------------------------------------
    run_dunning: bool = Field(True, description="run the dunning sweeper and reminder delivery with `ar serve` "
                              "(per AR_BACKGROUND) and in `ar worker`; set false on the API processes when workers "
                              "run them")
    sweep_interval_s: float = Field(30.0, description="how often the sweeper looks for dunning actions due")
    delivery_interval_s: float = Field(2.0, description="how often the delivery worker looks for reminders to send")
    delivery_claim_ttl_s: float = Field(600.0, ge=1, description="seconds (wall clock) a worker holds a reminder "
                                        "it is sending; past it, a send still unrecorded is taken for interrupted "
                                        "by a crash and marked failed for a person to check (never resent)")
    subscription_allow_private: bool = Field(False, description="let webhook subscriptions call private, loopback "
                                             "and link-local addresses (a receiver on this machine or network)")
    holiday_region: str | None = Field(None, description="French subdivision whose holidays also count, e.g. 57, "
                                       "67 or 68 (Alsace-Moselle: Good Friday and 26 December)")
    penalty_split_by_half_year: bool = Field(True, description="a B2B delay across 1 January or 1 July accrues at "
                                             "each half-year's rate (to confirm with counsel)")
    bank_match_tolerance_minor: int = Field(100, ge=0, description="a bank credit short of an invoice by at most "
                                            "this (minor units: bank charges) settles it, the rest written off")
    lifecycle_payment_sent_snooze_days: int = Field(10, ge=1, le=90, description="how many days an e-invoice "
                                                    "status 211 (payment sent) snoozes the invoice's reminders")
    creditor_name: str = Field("Your company", description="who the reminders come from")
    creditor_email: str = Field("receivables@example.invalid", description="From: and Reply-To: of reminders")
    # The creditor's identity on the documents a customer pays from (statements, reminders, formal notices).
    # The demo defaults validate; set yours. A bad value stops start-up naming its variable.
    creditor_legal_name: str | None = Field(None, description="legal name with its form (e.g. \"Dubois Travaux "
                                            "SAS\"); default: creditor_name")
    creditor_address: str = Field("1 rue de l'Exemple", description="street lines, separated by \"|\"")
    creditor_postcode: str = Field("75001", description="postcode")
    creditor_city: str = Field("Paris", description="city")
    creditor_country: str = Field("FR", pattern=r"^[A-Z]{2}$", description="ISO 3166 country code")
    creditor_siren: str = Field("123456782", description="SIREN (9 digits, checked)")
    creditor_vat_id: str = Field("FR11123456782", description="intra-EU VAT number (checked)")
    creditor_iban: str = Field("FR76 3000 6000 0112 3456 7890 189", description="IBAN customers pay to (checked); "
                               "printed with an EPC QR code (SEPA credit transfer)")
    creditor_bic: str | None = Field("AGRIFRPP", description="BIC of that account (checked; optional in the QR)")
    creditor_phone: str | None = Field("+33 1 00 00 00 00", description="phone number printed on documents")
    smtp_host: str | None = Field(None, description="SMTP server for reminders; unset: they go to outbox_dir")
    smtp_port: int = Field(25, description="SMTP port")
    smtp_starttls: bool = Field(False, description="upgrade the SMTP connection with STARTTLS")
    smtp_username: str | None = Field(None, description="SMTP login, if the server needs one")
    smtp_password: str | None = Field(None, description="SMTP password")
    outbox_dir: Path = Field(Path("var/outbox"), description="where reminders are written when no SMTP server is set")
    dunning_webhook_url: str | None = Field(None, description="where webhook-channel reminders are POSTed")
    dunning_webhook_secret: str | None = Field(None, description="Standard Webhooks secret (whsec_...) signing them")

    @field_validator("creditor_siren")
    @classmethod
    def _siren(cls, value: str) -> str:
        compact = siren.compact(value)
        if not siren.is_valid(compact):
            raise ValueError(f"AR_CREDITOR_SIREN {value!r} is not a valid SIREN (9 digits, Luhn key)")
        return str(compact)

    @field_validator("creditor_vat_id")
    @classmethod
    def _vat_id(cls, value: str) -> str:
        compact = vat.compact(value)
        if not vat.is_valid(compact):
            raise ValueError(f"AR_CREDITOR_VAT_ID {value!r} is not a valid EU VAT number")
        return str(compact)

    @field_validator("creditor_iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        try:
            return str(IBAN(value).compact)
        except SchwiftyException as error:
            raise ValueError(f"AR_CREDITOR_IBAN {value!r} is not a valid IBAN: {error}") from None

    @field_validator("creditor_bic")
    @classmethod
    def _bic(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return str(BIC(value).compact)
        except SchwiftyException as error:
            raise ValueError(f"AR_CREDITOR_BIC {value!r} is not a valid BIC: {error}") from None

    def creditor(self) -> dict[str, str]:
        """The creditor as the documents print it (recorded in each reminder's content, so a reminder shows the
        account it asked to be paid to). Address lines are joined with newlines; absent values are empty."""
        return {"name": self.creditor_name, "email": self.creditor_email,
                "legal_name": self.creditor_legal_name or self.creditor_name,
                "address": "\n".join(part.strip() for part in self.creditor_address.split("|") if part.strip()),
                "postcode": self.creditor_postcode, "city": self.creditor_city, "country": self.creditor_country,
                "siren": self.creditor_siren, "vat_id": self.creditor_vat_id, "iban": self.creditor_iban,
                "bic": self.creditor_bic or "", "phone": self.creditor_phone or ""}

    def background_mode(self) -> Background:
        """Where `ar serve` runs the background work, once the default and AR_RUN_* are taken into account."""
        if not (self.run_projections or self.run_dunning):
            return "external"
        if self.background is not None:
            return self.background
        shared_clock = not self.simulated_clock or self.clock_file is not None
        return "process" if self.is_postgres and shared_clock else "threads"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql", "postgres"))

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    def sqlalchemy_url(self) -> str:
        """The URL of our own tables (read models, idempotency keys), with an explicit driver."""
        if self.is_postgres:
            parts = urlsplit(self.database_url)
            return parts._replace(scheme="postgresql+psycopg").geturl()
        return f"sqlite:///{self.sqlite_path}"

    def event_store_env(self) -> dict[str, str]:
        """The `eventsourcing` library's settings for the event store."""
        if not self.is_postgres:
            events = self.sqlite_path.with_name(self.sqlite_path.stem + ".events.sqlite")
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(events),
                    "SQLITE_LOCK_TIMEOUT": "30", "CREATE_TABLE": "y" if self.create_tables else "n"}
        parts = urlsplit(self.database_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            # eventsourcing opens POSTGRES_POOL_SIZE connections at start and keeps them (psycopg_pool's
            # min_size); the overflow is opened under load and closed after 10 idle minutes. So: few at start,
            # at most `pool_size`.
            "POSTGRES_POOL_SIZE": str(min(EVENT_STORE_MIN_CONNECTIONS, self.pool_size)),
            "POSTGRES_MAX_OVERFLOW": str(max(0, self.pool_size - EVENT_STORE_MIN_CONNECTIONS)),
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "CREATE_TABLE": "y" if self.create_tables else "n",
        }
