"""Configuration: ``ISTMO_*`` environment variables, read once into ``Settings``.

Every variable is documented in the README with its default. The defaults run on one machine
with nothing else installed: SQLite under the data dir, files on the local disk.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from adapters.secrets.fernet import generate_key, valid_key


class ConfigurationError(Exception):
    pass


MIN_SECRET_LENGTH = 32
"""Production's shortest ``ISTMO_JWT_SECRET`` and ``ISTMO_SIGNING_SECRET``: 32 characters."""

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str, *, name: str) -> timedelta:
    """``90``, ``90s``, ``30m``, ``8h`` or ``7d``."""
    match = _DURATION.match(value)
    if not match:
        raise ConfigurationError(f"{name} must be a duration like 90s, 30m, 8h or 7d, not {value!r}")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True, slots=True)
class Variables:
    """The ``ISTMO_*`` variables as read at start, for a domain's container to read its own
    (``settings.variables.integer("CHATS_MAX_TURNS", 20)``) without a field in ``Settings``. A value
    that does not parse is a ``ConfigurationError`` naming the variable; an empty one is unset."""

    values: Mapping[str, str]

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(f"ISTMO_{name}")
        return value if value not in (None, "") else default

    def integer(self, name: str, default: int, *, minimum: int = 1) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        if not raw.strip().isascii() or not raw.strip().lstrip("-").isdigit():
            raise ConfigurationError(f"ISTMO_{name} must be a whole number, not {raw!r}")
        if int(raw) < minimum:
            raise ConfigurationError(f"ISTMO_{name} must be at least {minimum}, not {raw!r}")
        return int(raw)

    def switch(self, name: str, *, default: bool) -> bool:
        """On unless set to ``off``, ``0``, ``false`` or ``no`` (any case); unset: ``default``."""
        raw = self.text(name)
        return default if raw is None else raw.strip().lower() not in ("off", "0", "false", "no")

    def duration(self, name: str, default: timedelta) -> timedelta:
        raw = self.text(name)
        return default if raw is None else parse_duration(raw, name=f"ISTMO_{name}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    variables: Variables = Variables({})
    """Every ``ISTMO_*`` variable, for the domains that read their own (see ``Variables``)."""
    env: str = "dev"
    data_dir: Path = Path("var")
    database_url: str = ""
    public_url: str = "http://127.0.0.1:8000"
    jwt_secret: str | None = None
    jwks_url: str | None = None
    signing_secret: str = ""
    storage: str = "local"
    files_dir: Path = Path("var/files")
    s3_endpoint_url: str | None = None
    s3_region: str = "nyc3"
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_path_style: bool = False
    s3_prefix: str = ""
    max_upload_bytes: int = 50 * 1024 * 1024
    tmp_file_ttl: timedelta = timedelta(hours=24)
    files_gc_grace: timedelta = timedelta(hours=1)
    log_level: str = "INFO"
    log_format: str = "auto"
    graphql_max_depth: int = 12
    graphql_max_tokens: int = 5000
    graphql_max_cost: int = 5000
    graphql_max_mutations: int = 20
    pdf_processes: int | None = None  # None: one render worker per CPU
    pdf_timeout: timedelta = timedelta(seconds=30)
    pdf_memory_mb: int = 768
    job_max_attempts: int = 8
    job_lease: timedelta = timedelta(minutes=5)
    worker_concurrency: int = 4
    webhook_max_bytes: int = 1024 * 1024
    egress_allow: tuple[str, ...] = ()
    """Hosts or networks a tenant's settings may reach although internal (``ISTMO_EGRESS_ALLOW``)."""
    polar_webhook_secret: str | None = None
    workos_webhook_secret: str | None = None
    pac_base_url: str = "https://api.alanube.co"
    pac_api_key: str | None = None
    pac_webhook_secret: str | None = None
    pac_signature_mode: str = "SECRET"
    pac_poll_after: timedelta = timedelta(minutes=10)
    pac_poll_every: timedelta = timedelta(minutes=5)
    pac_timeout: timedelta = timedelta(seconds=15)
    secret_keys: tuple[str, ...] = ()
    """Fernet keys of the SecretBox, the first one primary (``ISTMO_SECRET_KEYS``)."""
    whatsapp_graph_url: str = "https://graph.facebook.com/v23.0"
    aurinko_base_url: str = "https://api.aurinko.io"
    aurinko_client_id: str | None = None
    aurinko_client_secret: str | None = None
    aurinko_return_url: str | None = None  # None: {public_url}/integrations/aurinko/callback
    aurinko_signing_secret: str | None = None
    aurinko_sync_every: timedelta = timedelta(minutes=5)
    aurinko_sync_days: int = 30
    aurinko_timeout: timedelta = timedelta(seconds=30)

    smtp_url: str | None = None  # unset: the local outbox (or each tenant's own SMTP URL)
    email_from: str = "no-reply@istmo.example.com"
    outbox_dir: Path | None = None  # None: $ISTMO_DATA_DIR/outbox

    @property
    def aurinko_callback_url(self) -> str:
        return self.aurinko_return_url or f"{self.public_url}/integrations/aurinko/callback"

    @property
    def pac_timeout_seconds(self) -> float:
        return self.pac_timeout.total_seconds()

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(f"ISTMO_{name}")
            return value if value not in (None, "") else default

        def integer(name: str, default: int) -> int:
            raw = get(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ConfigurationError(f"ISTMO_{name} must be a whole number, not {raw!r}") from None
            if value < 1:
                raise ConfigurationError(f"ISTMO_{name} must be at least 1, not {raw!r}")
            return value

        mode = (get("ENV", "dev") or "dev").lower()
        if mode not in ("dev", "production"):
            raise ConfigurationError(f"ISTMO_ENV must be dev or production, not {mode!r}")
        data_dir = Path(get("DATA_DIR", "var") or "var").resolve()
        storage = (get("STORAGE", "local") or "local").lower()
        if storage not in ("local", "s3"):
            raise ConfigurationError(f"ISTMO_STORAGE must be local or s3, not {storage!r}")
        jwks_url = get("JWKS_URL")
        production = mode == "production"
        jwt_secret = get("JWT_SECRET") or (
            None if jwks_url else _secret(data_dir, "jwt-secret", "ISTMO_JWT_SECRET", production)
        )
        signing_secret = get("SIGNING_SECRET") or _secret(
            data_dir, "signing-secret", "ISTMO_SIGNING_SECRET", production
        )
        if production:
            for name, value in (("JWT_SECRET", jwt_secret), ("SIGNING_SECRET", signing_secret)):
                if value is not None and len(value) < MIN_SECRET_LENGTH:
                    raise ConfigurationError(
                        f"ISTMO_{name} must be at least {MIN_SECRET_LENGTH} characters in production "
                        f"(it has {len(value)}): `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                    )
        secret_keys = _secret_keys(get("SECRET_KEYS"), data_dir, production)
        if bool(get("AURINKO_CLIENT_ID")) != bool(get("AURINKO_CLIENT_SECRET")):
            raise ConfigurationError("ISTMO_AURINKO_CLIENT_ID and ISTMO_AURINKO_CLIENT_SECRET go together: set both")
        if storage == "s3" and not get("S3_BUCKET"):
            raise ConfigurationError("ISTMO_S3_BUCKET is required when ISTMO_STORAGE=s3")
        log_format = (get("LOG_FORMAT", "auto") or "auto").lower()
        if log_format not in ("auto", "json", "console"):
            raise ConfigurationError(f"ISTMO_LOG_FORMAT must be auto, json or console, not {log_format!r}")
        return cls(
            variables=Variables({name: value for name, value in env.items() if name.startswith("ISTMO_")}),
            env=mode,
            data_dir=data_dir,
            database_url=get("DATABASE_URL") or f"sqlite:///{data_dir / 'istmo.db'}",
            public_url=(get("PUBLIC_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
            jwt_secret=jwt_secret,
            jwks_url=jwks_url,
            signing_secret=signing_secret,
            storage=storage,
            files_dir=Path(get("FILES_DIR") or data_dir / "files"),
            s3_endpoint_url=get("S3_ENDPOINT_URL"),
            s3_region=get("S3_REGION", "nyc3") or "nyc3",
            s3_bucket=get("S3_BUCKET"),
            s3_access_key=get("S3_ACCESS_KEY"),
            s3_secret_key=get("S3_SECRET_KEY"),
            s3_path_style=(get("S3_PATH_STYLE", "false") or "").lower() in ("1", "true", "yes"),
            s3_prefix=get("S3_PREFIX", "") or "",
            max_upload_bytes=integer("MAX_UPLOAD_BYTES", 50 * 1024 * 1024),
            tmp_file_ttl=parse_duration(get("TMP_FILE_TTL", "24h") or "24h", name="ISTMO_TMP_FILE_TTL"),
            files_gc_grace=parse_duration(get("FILES_GC_GRACE", "1h") or "1h", name="ISTMO_FILES_GC_GRACE"),
            log_level=(get("LOG_LEVEL", "INFO") or "INFO").upper(),
            log_format=log_format,
            graphql_max_depth=integer("GRAPHQL_MAX_DEPTH", 12),
            graphql_max_tokens=integer("GRAPHQL_MAX_TOKENS", 5000),
            graphql_max_cost=integer("GRAPHQL_MAX_COST", 5000),
            graphql_max_mutations=integer("GRAPHQL_MAX_MUTATIONS", 20),
            pdf_processes=integer("PDF_PROCESSES", os.cpu_count() or 1),
            pdf_timeout=_positive_duration(get("PDF_TIMEOUT", "30s") or "30s", name="ISTMO_PDF_TIMEOUT"),
            pdf_memory_mb=integer("PDF_MEMORY_MB", 768),
            job_max_attempts=integer("JOB_MAX_ATTEMPTS", 8),
            job_lease=_positive_duration(get("JOB_LEASE", "5m") or "5m", name="ISTMO_JOB_LEASE"),
            worker_concurrency=integer("WORKER_CONCURRENCY", 4),
            webhook_max_bytes=integer("WEBHOOK_MAX_BYTES", 1024 * 1024),
            egress_allow=tuple(item.strip() for item in (get("EGRESS_ALLOW") or "").split(",") if item.strip()),
            polar_webhook_secret=get("POLAR_WEBHOOK_SECRET"),
            workos_webhook_secret=get("WORKOS_WEBHOOK_SECRET"),
            pac_base_url=(get("PAC_BASE_URL", "https://api.alanube.co") or "").rstrip("/"),
            pac_api_key=get("PAC_API_KEY"),
            pac_webhook_secret=get("PAC_WEBHOOK_SECRET"),
            pac_signature_mode=_pac_mode(get("PAC_SIGNATURE_MODE", "SECRET") or "SECRET"),
            pac_poll_after=_positive_duration(get("PAC_POLL_AFTER", "10m") or "10m", name="ISTMO_PAC_POLL_AFTER"),
            pac_poll_every=_positive_duration(get("PAC_POLL_EVERY", "5m") or "5m", name="ISTMO_PAC_POLL_EVERY"),
            pac_timeout=_positive_duration(get("PAC_TIMEOUT", "15s") or "15s", name="ISTMO_PAC_TIMEOUT"),
            secret_keys=secret_keys,
            whatsapp_graph_url=_http_url(
                get("WHATSAPP_GRAPH_URL", "https://graph.facebook.com/v23.0") or "", name="ISTMO_WHATSAPP_GRAPH_URL"
            ),
            aurinko_base_url=(get("AURINKO_BASE_URL", "https://api.aurinko.io") or "").rstrip("/"),
            aurinko_client_id=get("AURINKO_CLIENT_ID"),
            aurinko_client_secret=get("AURINKO_CLIENT_SECRET"),
            aurinko_return_url=get("AURINKO_RETURN_URL"),
            aurinko_signing_secret=get("AURINKO_SIGNING_SECRET"),
            aurinko_sync_every=_positive_duration(
                get("AURINKO_SYNC_EVERY", "5m") or "5m", name="ISTMO_AURINKO_SYNC_EVERY"
            ),
            aurinko_sync_days=integer("AURINKO_SYNC_DAYS", 30),
            aurinko_timeout=_positive_duration(get("AURINKO_TIMEOUT", "30s") or "30s", name="ISTMO_AURINKO_TIMEOUT"),
            smtp_url=_smtp_url(get("SMTP_URL")),
            email_from=_email_from(get("EMAIL_FROM", "no-reply@istmo.example.com") or ""),
            outbox_dir=Path(outbox) if (outbox := get("OUTBOX_DIR")) else None,
        )


def _http_url(value: str, *, name: str) -> str:
    url = value.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", url):
        raise ConfigurationError(f"{name} must be an http(s) URL, not {value!r}")
    return url


def _pac_mode(value: str) -> str:
    mode = value.strip().upper()
    if mode not in ("SECRET", "HMAC"):
        raise ConfigurationError(f"ISTMO_PAC_SIGNATURE_MODE must be SECRET or HMAC, not {value!r}")
    return mode


def _smtp_url(value: str | None) -> str | None:
    if value is None:
        return None
    from adapters.email.smtp import SmtpSettings, SmtpUrlInvalid

    try:
        SmtpSettings.parse(value)
    except SmtpUrlInvalid as error:
        raise ConfigurationError(f"ISTMO_SMTP_URL: {error}") from None
    return value


def _email_from(value: str) -> str:
    """The default From address (syntax checked, no DNS look-up)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ConfigurationError(f"ISTMO_EMAIL_FROM is not an email address ({error}): {value[:80]!r}") from None


def _positive_duration(value: str, *, name: str) -> timedelta:
    duration = parse_duration(value, name=name)
    if duration <= timedelta(0):
        raise ConfigurationError(f"{name} must be longer than 0s, not {value!r}")
    return duration


def _secret_keys(raw: str | None, data_dir: Path, production: bool) -> tuple[str, ...]:
    """``ISTMO_SECRET_KEYS``: comma-separated Fernet keys, the first primary. In dev one key is
    generated once into ``$ISTMO_DATA_DIR/secret-keys``; in production the variable is required."""
    source = "ISTMO_SECRET_KEYS"
    if raw is None:
        raw = _secret(data_dir, "secret-keys", source, production, generate=generate_key)
        source = str(data_dir / "secret-keys")
    keys = tuple(key.strip() for key in raw.split(",") if key.strip())
    if not keys:
        raise ConfigurationError(f"{source} holds no key: one or more Fernet keys, comma-separated")
    for position, key in enumerate(keys, start=1):
        if not valid_key(key):
            # Which key by position, never the key itself.
            raise ConfigurationError(
                f"{source}: key #{position} is not a Fernet key (32 random bytes, URL-safe base64; "
                "`istmo secrets new-key` prints one)"
            )
    if len(set(keys)) != len(keys):
        raise ConfigurationError(f"{source} lists the same key twice")
    return keys


def _secret(
    data_dir: Path,
    file_name: str,
    variable: str,
    production: bool,
    *,
    generate: Callable[[], str] = lambda: secrets.token_urlsafe(48),
) -> str:
    """In dev, a random secret generated once into the data dir; in production, required."""
    if production:
        raise ConfigurationError(f"{variable} is required when ISTMO_ENV=production")
    path = data_dir / file_name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: a process starting at the same moment sees
        # either no file or the whole secret, never an empty one.
        draft = data_dir / f".{file_name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generate())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process placed its secret first; use that one
        finally:
            draft.unlink()
    secret = path.read_text().strip()
    if not secret:
        raise ConfigurationError(f"{path} is empty: delete it to generate a new {variable}, or set it")
    return secret
