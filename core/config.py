"""Every setting from the environment, with embedded defaults.

`load_config(instance_path, overrides)` returns a plain dict for `app.config`. Nothing here
touches the network; generated secrets are kept in the instance folder so they survive restarts.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    return (_env(name, "1" if default else "0") or "").lower() in ("1", "true", "yes", "on")


def _instance_secret(instance: Path) -> str:
    """A SECRET_KEY generated once and kept in the instance folder."""
    path = instance / "secret_key"
    if not path.exists():
        # Written whole under another name, then linked into place: processes starting at once
        # (gunicorn's workers) must all read the one key, never each their own or a half-written one.
        partial = instance / f".secret_key.{os.getpid()}.{threading.get_ident()}"
        partial.write_text(secrets.token_urlsafe(48))
        partial.chmod(0o600)
        try:
            os.link(partial, path)  # fails if another got there first: theirs is kept
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return path.read_text().strip()


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    overrides = dict(overrides or {})
    database_url = _env("DATABASE_URL", f"sqlite:///{instance / 'sigill.db'}")
    config = {
        "SECRET_KEY": _env("SECRET_KEY") or overrides.get("SECRET_KEY") or _instance_secret(instance),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "REDIS_URL": _env("REDIS_URL"),
        "RQ_QUEUE": _env("RQ_QUEUE", "sigill"),
        # Seconds a web request waits for Redis, and how long after a failure it stops trying
        # (rate limits and job hand-off fall back meanwhile; see core/redis_link.py).
        "REDIS_TIMEOUT": float(_env("REDIS_TIMEOUT", "0.5")),
        "REDIS_RETRY_AFTER": float(_env("REDIS_RETRY_AFTER", "5")),
        # A running job renews its lease; one whose heartbeat is older than this lost its worker.
        "JOB_LEASE_SECONDS": float(_env("JOB_LEASE_SECONDS", "30")),
        # Without Redis: the threads of the web process that run jobs (one GIL: a job thread adds
        # throughput only while another waits on the database, SMTP or a sealing child).
        "JOB_THREADS": max(1, _env_int("JOB_THREADS", 2)),
        # The niceness (0-19) `sigill worker` runs at. 10: where web and workers share CPUs, signers'
        # pages answer first and seals and mails use the CPU the web leaves (the kernel gives a nice-0
        # process ~9x the CPU of a nice-10 one when both want it); under a flood of signatures the
        # jobs catch up once it ebbs (see bench_scale_out). 0: the same priority as the web.
        "WORKER_NICE": _env_int("WORKER_NICE", 10),
        # Hard bounds of the child process that works on one PDF (core/bounded.py): sealing one
        # document, and rendering one page image. Over them the work fails alone, not the process.
        "CHECK_MEMORY_MB": _env_int("CHECK_MEMORY_MB", 512),  # the upload check (core/pdfcheck.py)
        "CHECK_CPU_SECONDS": _env_int("CHECK_CPU_SECONDS", 20),
        "CHECK_WALL_SECONDS": _env_int("CHECK_WALL_SECONDS", 30),
        "SEAL_MEMORY_MB": _env_int("SEAL_MEMORY_MB", 1536),
        "SEAL_CPU_SECONDS": _env_int("SEAL_CPU_SECONDS", 300),
        "SEAL_WALL_SECONDS": _env_int("SEAL_WALL_SECONDS", 600),
        # Seal in a bounded child reused across documents (per job thread), ended after this many
        # seals or once it grew by this many MB; false: fork a child per document (debugging).
        "SEAL_REUSE_CHILD": _env_bool("SEAL_REUSE_CHILD", True),
        "SEAL_CHILD_MAX_TASKS": _env_int("SEAL_CHILD_MAX_TASKS", 200),
        "SEAL_CHILD_MAX_GROWTH_MB": _env_int("SEAL_CHILD_MAX_GROWTH_MB", 256),
        "RENDER_MEMORY_MB": _env_int("RENDER_MEMORY_MB", 512),
        "RENDER_CPU_SECONDS": _env_int("RENDER_CPU_SECONDS", 20),
        "RENDER_WALL_SECONDS": _env_int("RENDER_WALL_SECONDS", 30),
        "VERIFY_MEMORY_MB": _env_int("VERIFY_MEMORY_MB", 768),
        "VERIFY_CPU_SECONDS": _env_int("VERIFY_CPU_SECONDS", 30),
        "VERIFY_WALL_SECONDS": _env_int("VERIFY_WALL_SECONDS", 45),
        # Webhook deliveries one organisation may have in flight at once (fairness between tenants).
        "WEBHOOK_TENANT_CONCURRENCY": _env_int("WEBHOOK_TENANT_CONCURRENCY", 1),
        "STORAGE_DIR": _env("STORAGE_DIR", str(instance / "blobs")),
        # s3://bucket/prefix keeps blobs in an S3-compatible store instead (core/storage.py).
        "STORAGE_URL": _env("STORAGE_URL"),
        "S3_ENDPOINT_URL": _env("S3_ENDPOINT_URL"),
        "S3_REGION": _env("S3_REGION"),
        "S3_ACCESS_KEY_ID": _env("S3_ACCESS_KEY_ID"),
        "S3_SECRET_ACCESS_KEY": _env("S3_SECRET_ACCESS_KEY"),
        "S3_ADDRESSING_STYLE": _env("S3_ADDRESSING_STYLE"),
        "SMTP_URL": _env("SMTP_URL"),
        "MAIL_FROM": _env("MAIL_FROM", "no-reply@sigill.localhost"),
        "OUTBOX_DIR": _env("OUTBOX_DIR", str(instance / "outbox")),
        "SMS_GATEWAY": _env("SMS_GATEWAY", "outbox"),
        "ELKS_URL": _env("ELKS_URL", "https://api.46elks.com/a1"),
        "ELKS_USERNAME": _env("ELKS_USERNAME"),
        "ELKS_PASSWORD": _env("ELKS_PASSWORD"),
        "SMS_SENDER": _env("SMS_SENDER", "Sigill"),
        "BASE_URL": (_env("BASE_URL", "http://127.0.0.1:5000") or "").rstrip("/"),
        # id:secret[,id:secret ...]: the first signs new events, the others only verify (core/cases/events.py).
        "EVIDENCE_KEYS": _env("EVIDENCE_KEYS"),
        # id:secret[,id:secret ...], secrets of 32+ characters: master keys of encryption at rest
        # (core/encryption.py); the first encrypts, all decrypt. Unset: derived from SECRET_KEY.
        "FILE_KEYS": _env("FILE_KEYS"),
        # PEM file(s) of the TSA's root certificate(s), to check anchor timestamps offline.
        "TSA_TRUST_ROOTS": _env("TSA_TRUST_ROOTS"),
        "SEAL_P12": _env("SEAL_P12"),
        "SEAL_P12_PASSWORD": _env("SEAL_P12_PASSWORD"),
        "SEAL_LEVEL": _env("SEAL_LEVEL", "B-LT"),
        "SEAL_DIR": _env("SEAL_DIR", str(instance / "seal")),
        "VERIFY_MAX_MB": _env_int("VERIFY_MAX_MB", 50),
        "TSA_URL": _env("TSA_URL"),
        "BANKID_URL": _env("BANKID_URL"),
        "BANKID_CERT_P12": _env("BANKID_CERT_P12"),
        "BANKID_CERT_PASSWORD": _env("BANKID_CERT_PASSWORD"),
        "BANKID_CA": _env("BANKID_CA"),
        # Trust root of BankID's signing certificates (evidence checks); the TLS CA when unset,
        # which is right for the simulator only.
        "BANKID_SIGNATURE_CA": _env("BANKID_SIGNATURE_CA"),
        # Where "Open BankID" leads on the signer's device (the simulator's page when developing).
        "BANKID_APP_URL": _env("BANKID_APP_URL", "https://app.bankid.com/"),
        "BANKID_TIMEOUT": _env_int("BANKID_TIMEOUT", 10),
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        "MAX_UPLOAD_MB": _env_int("MAX_UPLOAD_MB", 100),
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": _env_int("SESSION_HOURS", 12) * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "LANGUAGES": ["sv", "en"],
        "JOBS_MANUAL": False,
        "SCHEDULER_ENABLED": _env_bool("SCHEDULER_ENABLED", True),
        "SCHEDULER_INTERVAL": _env_int("SCHEDULER_INTERVAL", 60),
        "LOGIN_RATE_LIMIT": _env("LOGIN_RATE_LIMIT", "10/300"),  # wrong passwords per address
        # Wrong passwords per account, from all addresses; beyond it only known addresses may try.
        "LOGIN_ACCOUNT_RATE_LIMIT": _env("LOGIN_ACCOUNT_RATE_LIMIT", "30/3600"),
        "TOKEN_RATE_LIMIT": _env("TOKEN_RATE_LIMIT", "30/60"),
        # Rendered signer pages kept per worker (core/signing/page.py); 0 turns the cache off.
        "SIGNER_PAGE_CACHE": _env_int("SIGNER_PAGE_CACHE", 256),
        "API_RATE_LIMIT": _env("API_RATE_LIMIT", "120/60"),
        # Webhooks go to public addresses only; these CIDRs (comma- or space-separated) are opened
        # explicitly, e.g. an on-premises receiver. A CA file verifies receivers with a private CA.
        "WEBHOOK_ALLOWED_NETWORKS": _env("WEBHOOK_ALLOWED_NETWORKS", ""),
        "WEBHOOK_CA_BUNDLE": _env("WEBHOOK_CA_BUNDLE"),
        "DEBUG_OUTBOX": _env_bool("DEBUG_OUTBOX", False),
        # hide_parameters: a database error's text (logged, and kept as a job's last error) names the
        # statement but not its values, which can be phone and personal numbers or secrets.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # Argon2 cost of password hashes (core/auth/service.py). Never read from the environment:
        # only the test suite passes "cheapest", and only together with TESTING.
        "PASSWORD_HASH_COST": "strong",
    }
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_MB"] * 1024 * 1024
    if config["BASE_URL"].startswith("https://") and "SESSION_COOKIE_SECURE" not in os.environ:
        config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = True
    config.update(overrides)
    if config["PASSWORD_HASH_COST"] != "strong" and not config.get("TESTING"):  # noqa: S105  (a cost, no secret)
        raise ValueError("PASSWORD_HASH_COST other than 'strong' is for the test suite only (TESTING)")
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if config.get("FILE_KEYS"):  # a bad key setting stops the start, not the first upload after it
        from core.encryption import parse_keys

        parse_keys(config["FILE_KEYS"], config["SECRET_KEY"])
    return config


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgres://` / `postgresql://` spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
