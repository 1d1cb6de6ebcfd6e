"""Settings from the environment (prefix ``THIDUA_``); defaults are the embedded local run."""

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_SECRET = "thidua-local-dev-secret-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="THIDUA_", extra="ignore")

    service: str = "directory"
    database_url: str = ""  # default: an SQLite file named after the service under ./data
    # PostgreSQL connections a process keeps per engine (as many again on overflow); leases hold one each.
    database_pool_size: int = Field(default=10, ge=1, le=100)
    nats_url: str = "nats://127.0.0.1:4322"

    # The local run (`make run`, `make tokens`, the tests) may use the signing secret published in this
    # repository; anywhere else a service refuses to start with it (``check_deployable``).
    local: bool = False

    # Auth: a shared HS256 secret locally, a JWKS URL (RS256/ES256) in production. A token names the
    # person (``sub``, a directory member id) and must carry ``iat`` and ``exp`` no further apart than
    # ``jwt_max_lifetime_seconds``; who the person is in the unions comes from the directory.
    jwt_secret: str = LOCAL_SECRET
    jwks_url: str | None = None
    jwt_audience: str = "thidua"
    jwt_issuer: str = "thidua"
    jwt_max_lifetime_seconds: int = 24 * 3600
    # Platform operators: token subjects that act as admin everywhere (the local run names "admin").
    admin_subjects: list[str] = []

    # Outbox relay
    relay_enabled: bool = True
    relay_batch: int = 500
    relay_max_in_flight: int = 256
    relay_idle_poll_seconds: float = 0.25
    # A replica without the store's relay lease tries to take it this often (the takeover time's bound).
    relay_lease_poll_seconds: float = 0.5

    # Stream (the duplicate window must outlive any relay restart we expect)
    stream_replicas: int = 1
    duplicate_window_seconds: int = 600

    # Projections
    # A replay commits (and acks) once per batch, and keeps one batch in flight (the consumer's max ack
    # pending). 4,096 rather than 1,024: a city radar's replay wrote half the WAL and read 0.52–0.53 of a raw
    # pull consumer against 0.46–0.50 (tests.benchmarks.inspections --only 3 --batch N, same hour). A live
    # level's batches are what has come, a few messages; the largest, a city round's 13,000 checklists,
    # apply at ~0.1 ms an event, far inside the ack wait.
    projection_batch: int = Field(4096, ge=1, le=10_000)
    projection_max_deliver: int = 5
    projection_ack_wait_seconds: float = 30.0
    projection_nak_delay_seconds: float = 1.0
    # A level host that may not create consumers (a district's own NATS account): it binds to the consumers
    # an operator provisioned for it (``--provision``) and never creates, changes or deletes one.
    level_attach_only: bool = False

    # HTTP
    max_body_bytes: int = 256 * 1024
    # Days an Idempotency-Key is remembered (1–365): a retry inside the window gets the stored response,
    # after it the same key is a new command. Expired keys are pruned off the hot path (issue 12).
    idempotency_retention: int = Field(default=7, ge=1, le=365)

    # Load this service's part of the demo city at start-up (once; a second start keeps the data).
    demo_data: bool = False

    # Telemetry: spans go to OTLP when an endpoint is set, else to a console/file exporter if asked.
    otlp_endpoint: str | None = None
    trace_console: bool = False
    trace_file: str | None = None  # rotated at trace_file_max_bytes (one older file is kept)
    trace_file_max_bytes: int = 10 * 1024 * 1024
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)  # of new traces (a parent's choice is kept)
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _defaults(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///data/{self.service}.db"
        if self.local and not self.admin_subjects:
            self.admin_subjects = ["admin"]
        return self

    def check_deployable(self) -> None:
        """Refuse to run outside the local run with a signing secret anyone can read or guess."""
        if self.local or self.jwks_url:
            return
        secret = self.jwt_secret
        if secret == LOCAL_SECRET or secret.lower().startswith("change-me") or len(secret.encode()) < 32:
            raise SystemExit(
                "refusing to start: THIDUA_JWT_SECRET is the secret published in the repository, a "
                "'change-me' placeholder or shorter than 32 bytes; set a random secret of at least 32 bytes "
                "or THIDUA_JWKS_URL (THIDUA_LOCAL=true is for the local run only)"
            )
