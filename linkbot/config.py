"""Settings from the environment and an optional ``.env`` file."""

from __future__ import annotations

import re
import socket
from datetime import time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from linkbot.money import CURRENCIES, Currency
from linkbot.store import postgresql_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr
    omise_secret_key: SecretStr
    telegram_api_url: str = "https://api.telegram.org"
    omise_api_url: str = "https://api.omise.co"
    omise_timeout: float = Field(default=20.0, gt=0, le=300)
    linkbot_allowed_users: Annotated[frozenset[int], NoDecode] = frozenset()
    linkbot_default_currency: str = "THB"
    # A path (SQLite) or a postgresql:// URL; DATABASE_URL, as PaaS providers
    # set it, when this is unset.
    linkbot_database: str | None = None
    database_url: str | None = None
    # Names this process in the database's claims and leases (see instance_id).
    linkbot_instance_id: str | None = Field(default=None, max_length=48)
    linkbot_log_level: str = "INFO"
    linkbot_poll_interval: float = Field(default=20.0, gt=0)
    linkbot_sweep_interval: float = Field(default=600.0, gt=0)
    linkbot_watch_days: int = Field(default=30, gt=0)
    linkbot_timezone: str = "Asia/Bangkok"
    linkbot_http_listen: str | None = None
    omise_webhook_secret: SecretStr | None = None
    linkbot_daily_report: str | None = None

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        bot_id, _, secret = token.partition(":")
        if not (bot_id.isdigit() and secret):
            raise ValueError("must be the token BotFather gave you, like 123456:ABC-DEF...")
        return SecretStr(token)

    @field_validator("omise_secret_key")
    @classmethod
    def _secret_key_shape(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value().strip()
        if key.startswith("pkey_"):
            raise ValueError(
                "is a public key (pkey_...); public keys cannot create links. "
                "Use the secret key (skey_test_... or skey_...) from the Omise dashboard"
            )
        if not key.startswith("skey_"):
            raise ValueError("must be an Omise secret key starting with skey_test_ or skey_")
        return SecretStr(key)

    @field_validator("linkbot_allowed_users", mode="before")
    @classmethod
    def _split_users(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            try:
                return frozenset(int(p) for p in parts if p)
            except ValueError:
                raise ValueError("must be Telegram user ids separated by commas") from None
        return value

    @field_validator("linkbot_default_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in CURRENCIES:
            raise ValueError(f"must be one of {', '.join(sorted(CURRENCIES))}")
        return code

    @field_validator("linkbot_database", "database_url", mode="before")
    @classmethod
    def _database(cls, value: object) -> object:
        if isinstance(value, Path):
            return str(value)
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return None
        scheme, found, _ = value.partition("://")
        if found and postgresql_url(value) is None:
            # Said without the value: a URL may carry a password.
            raise ValueError(
                f"must be a postgresql:// URL or the path of an SQLite file, not a {scheme}:// URL"
            )
        return value

    @field_validator("linkbot_log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("linkbot_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Asia/Bangkok") from None
        return value

    @field_validator("omise_webhook_secret", mode="before")
    @classmethod
    def _secret_or_none(cls, value: object) -> object:
        # An empty value (a line uncommented in .env) must not become an empty
        # HMAC key that anyone can sign with.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("linkbot_http_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if not value:
            return None
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, such as 0.0.0.0:8080")
        return value

    @field_validator("linkbot_daily_report")
    @classmethod
    def _daily_report(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if found is None:
            raise ValueError("must be a local time of day as HH:MM, such as 21:00")
        return f"{int(found[1]):02d}:{found[2]}"

    @field_validator("telegram_api_url", "omise_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def database(self) -> str:
        """Where the store is: LINKBOT_DATABASE, else DATABASE_URL, else linkbot.db."""
        return self.linkbot_database or self.database_url or "linkbot.db"

    @property
    def instance_id(self) -> str:
        """LINKBOT_INSTANCE_ID, else the host's name.

        Stable across restarts on one host, so a restarted bot knows the
        claims its earlier run left as its own and finishes them at once;
        distinct between containers and machines, as instances are.
        """
        return self.linkbot_instance_id or socket.gethostname()[:48] or "linkbot"

    @property
    def default_currency(self) -> Currency:
        return CURRENCIES[self.linkbot_default_currency]

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.linkbot_timezone)

    @property
    def daily_report(self) -> time | None:
        """When the daily summary goes out, in LINKBOT_TIMEZONE; None when it is off."""
        return (
            None
            if self.linkbot_daily_report is None
            else time.fromisoformat(self.linkbot_daily_report)
        )

    @property
    def omise_test_mode(self) -> bool:
        return self.omise_secret_key.get_secret_value().startswith("skey_test_")

    def secrets(self) -> list[str]:
        """Every secret value, for scrubbing logs (the token's secret half on its own too)."""
        values = [self.telegram_bot_token, self.omise_secret_key, self.omise_webhook_secret]
        found = [v.get_secret_value() for v in values if v is not None]
        url = postgresql_url(self.database)
        if url is not None and url.password:
            found.append(str(url.password))
        return [*found, self.telegram_bot_token.get_secret_value().partition(":")[2]]


def describe_errors(exc: Exception) -> str:
    """One paragraph naming each variable that is missing or wrong, without its value."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return f"linkbot: configuration error: {exc}"
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        if error["type"] == "missing":
            lines.append(f"{name} is not set.")
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"{name} {message}.")
    return (
        "linkbot cannot start: "
        + " ".join(lines)
        + (" Set them" if len(lines) > 1 else " Set it")
        + " in the environment or in a .env file in the working directory"
        " (see .env.example)."
    )
