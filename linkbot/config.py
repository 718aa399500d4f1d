"""Settings from the environment and an optional ``.env`` file."""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse
from datetime import time
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from linkbot.instances import process_instance_id
from linkbot.money import CURRENCIES, Currency
from linkbot.store import asyncpg_options, postgresql_url

# The catalogs linkbot.bot.messages has (a test keeps the two in step).
LANGUAGES = ("en", "th", "ja")
# Where Telegram posts updates, below LINKBOT_WEBHOOK_URL. Fixed and public:
# the secret travels in a header, never in the path, which proxies log.
WEBHOOK_PATH = "/telegram/webhook"
# Telegram's rule for secret_token.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# The label the derived secret is keyed on; changing it changes every deployed secret.
_DERIVED_SECRET_LABEL = b"linkbot telegram webhook secret v1"
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# What each API address carries in every request, which plain http would show to the network.
_API_SECRETS = {"telegram_api_url": "the bot token", "omise_api_url": "the secret key"}
# LINKBOT_WATCH_DAYS at most: ten years of links, well inside what a date can count back.
MAX_WATCH_DAYS = 3650
# The only ports Telegram posts webhooks to.
_WEBHOOK_PORTS = {443, 80, 88, 8443}
# Telegram's user ids are positive and have at most 52 significant bits.
_MAX_USER_ID = 2**52
_URL = "must be an https:// URL"
_SECONDS = "must be a number of seconds above 0"
_YES_NO = "must be true or false"
# What each setting must be, for a value that is not even of the right kind (a
# word for a number, a number out of range): the bot's words, never pydantic's.
# Validators that refuse a value in more detail say why in their own message.
EXPECTED = {
    "telegram_bot_token": "must be the token BotFather gave you, like 123456:ABC-DEF...",
    "omise_secret_key": "must be an Omise secret key starting with skey_test_ or skey_",
    "telegram_api_url": _URL,
    "omise_api_url": _URL,
    "omise_timeout": f"{_SECONDS} and at most 300, such as 20",
    "linkbot_allowed_users": (
        "must be Telegram user ids separated by commas, such as 123456789,987654321"
    ),
    "linkbot_default_currency": f"must be one of {', '.join(sorted(CURRENCIES))}",
    "linkbot_database": "must be the path of an SQLite file or a postgresql:// URL",
    "database_url": "must be the path of an SQLite file or a postgresql:// URL",
    "linkbot_instance_id": "must be a name of at most 48 characters, such as shop-1",
    "linkbot_log_level": "must be DEBUG, INFO, WARNING, ERROR or CRITICAL",
    "linkbot_poll_interval": f"{_SECONDS}, such as 20",
    "linkbot_sweep_interval": f"{_SECONDS}, such as 600",
    "linkbot_watch_days": (
        f"must be a number of days from 1 to {MAX_WATCH_DAYS} (ten years), such as 30"
    ),
    "linkbot_timezone": "must be an IANA time zone such as Asia/Bangkok",
    "linkbot_http_listen": "must be host:port, such as 0.0.0.0:8080",
    "omise_webhook_secret": "must be the webhook secret as text, or unset",
    "linkbot_daily_report": "must be a local time of day as HH:MM, such as 21:00",
    "linkbot_language": f"must be one of {', '.join(LANGUAGES)}, or unset",
    "linkbot_group_admins": _YES_NO,
    "linkbot_webhook_url": (
        "must be the bot's public https:// address, such as https://bot.example.com"
    ),
    "linkbot_webhook_secret": "must be 1 to 256 characters: letters, digits, _ and -",
    "port": "must be a port number from 1 to 65535, such as 8080",
    "linkbot_log_format": "must be text or json",
    "linkbot_metrics": _YES_NO,
}


# Read from the current directory; main() names it in full when a setting is refused.
ENV_FILE = ".env"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # True only in ``linkbot try``, against the simulated Telegram and Omise.
    sandbox: ClassVar[bool] = False

    telegram_bot_token: SecretStr
    omise_secret_key: SecretStr
    telegram_api_url: str = "https://api.telegram.org"
    omise_api_url: str = "https://api.omise.co"
    omise_timeout: float = Field(default=20.0, gt=0, le=300, allow_inf_nan=False)
    linkbot_allowed_users: Annotated[frozenset[int], NoDecode] = frozenset()
    linkbot_default_currency: str = "THB"
    # A path (SQLite) or a postgresql:// URL; DATABASE_URL, as PaaS providers
    # set it, when this is unset.
    # Out of reprs: a URL may carry the database's password.
    linkbot_database: str | None = Field(default=None, repr=False)
    database_url: str | None = Field(default=None, repr=False)
    # Names this process in the database's claims and leases (see instance_id).
    linkbot_instance_id: str | None = Field(default=None, max_length=48)
    linkbot_log_level: str = "INFO"
    # Finite: an infinite wait would never look at Omise at all.
    linkbot_poll_interval: float = Field(default=20.0, gt=0, allow_inf_nan=False)
    linkbot_sweep_interval: float = Field(default=600.0, gt=0, allow_inf_nan=False)
    linkbot_watch_days: int = 30
    linkbot_timezone: str = "Asia/Bangkok"
    linkbot_http_listen: str | None = None
    omise_webhook_secret: SecretStr | None = None
    linkbot_daily_report: str | None = None
    # Every user gets this language; unset, each gets their Telegram app's (en, th, ja).
    linkbot_language: str | None = None
    # Lets a group's administrators manage that group's links (see docs/using.md for the risk).
    linkbot_group_admins: bool = False
    linkbot_webhook_url: str | None = None
    linkbot_webhook_secret: SecretStr | None = None
    # The PaaS convention: listen on 0.0.0.0:$PORT when LINKBOT_HTTP_LISTEN is unset.
    port: int | None = Field(default=None, gt=0, lt=65536)
    linkbot_log_format: Literal["text", "json"] = "text"
    linkbot_metrics: bool = False

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        bot_id, _, secret = token.partition(":")
        if not (bot_id.isdigit() and secret):
            raise ValueError(EXPECTED["telegram_bot_token"])
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
            raise ValueError(EXPECTED["omise_secret_key"])
        return SecretStr(key)

    @field_validator("linkbot_allowed_users", mode="before")
    @classmethod
    def _split_users(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            try:
                users = frozenset(int(p) for p in parts if p)
            except ValueError:
                raise ValueError(EXPECTED["linkbot_allowed_users"]) from None
            # A negative id is a group's or a channel's, which no user ever has.
            if not all(0 < user < _MAX_USER_ID for user in users):
                raise ValueError(
                    "must be Telegram user ids, the positive numbers /start shows, separated by"
                    " commas (a negative id is a group's, not a person's)"
                )
            return users
        return value

    @field_validator("linkbot_default_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in CURRENCIES:
            raise ValueError(EXPECTED["linkbot_default_currency"])
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
        if not found:
            return value
        # Every message here goes without the value: a URL may carry a password.
        try:
            url = postgresql_url(value)
        except ValueError:
            raise ValueError("is not a valid postgresql:// URL (is its port a number?)") from None
        if url is None:
            raise ValueError(
                f"must be a postgresql:// URL or the path of an SQLite file, not a {scheme}:// URL"
            )
        if url.port is not None and not 0 < url.port < 65536:
            raise ValueError(f"has port {url.port}; a port is 1 to 65535")
        try:
            asyncpg_options(url)
        except OSError:
            raise ValueError("names an sslrootcert file that cannot be read") from None
        return value

    @field_validator("linkbot_log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(EXPECTED["linkbot_log_level"])
        return level

    @field_validator("linkbot_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        # OSError: a region's folder ("Asia") or a name too long for a file name.
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(EXPECTED["linkbot_timezone"]) from None
        return value

    @field_validator("omise_webhook_secret", "linkbot_webhook_secret", "port", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # An empty value (a line uncommented in .env) is unset: never an empty
        # HMAC key that anyone can sign with, nor a port that is not a number.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("linkbot_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        parts = urllib.parse.urlsplit(value.strip())
        local = parts.hostname in _LOCAL_HOSTS
        if not _encrypted_or_local(parts):
            raise ValueError(EXPECTED["linkbot_webhook_url"])
        if not parts.hostname or parts.query or parts.fragment or "@" in parts.netloc:
            raise ValueError("must be a plain https:// base address, without ?query or #fragment")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("has a port that is not a number") from None
        if port is not None and not local and port not in _WEBHOOK_PORTS:
            raise ValueError("must use port 443, 80, 88 or 8443: Telegram posts to no other")
        return parts.geturl().rstrip("/")

    @field_validator("linkbot_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError(EXPECTED["linkbot_webhook_secret"])
        return value

    @field_validator("linkbot_log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _webhook_needs_listener(self) -> Self:
        if self.linkbot_webhook_url and self.http_listen is None:
            raise ValueError(
                "LINKBOT_WEBHOOK_URL needs an address to serve it on: set LINKBOT_HTTP_LISTEN "
                "(such as 0.0.0.0:8080) or PORT"
            )
        return self

    @field_validator("linkbot_http_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if not value:
            return None
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(EXPECTED["linkbot_http_listen"])
        return value

    @field_validator("linkbot_daily_report")
    @classmethod
    def _daily_report(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if found is None:
            raise ValueError(EXPECTED["linkbot_daily_report"])
        return f"{int(found[1]):02d}:{found[2]}"

    @field_validator("linkbot_language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        language = value.strip().lower()
        if language not in LANGUAGES:
            raise ValueError(EXPECTED["linkbot_language"])
        return language

    @field_validator("telegram_api_url", "omise_api_url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        parts = urllib.parse.urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(_URL)
        if not _encrypted_or_local(parts):
            raise ValueError(
                f"must be an https:// URL: over plain http:// {_API_SECRETS[info.field_name or '']}"
                " would travel unencrypted (http:// is only for localhost, 127.0.0.1 and ::1)"
            )
        return value.strip().rstrip("/")

    @field_validator("linkbot_watch_days")
    @classmethod
    def _watch_days(cls, value: int) -> int:
        if not 0 < value <= MAX_WATCH_DAYS:
            raise ValueError(EXPECTED["linkbot_watch_days"])
        return value

    @property
    def database(self) -> str:
        """Where the store is: LINKBOT_DATABASE, else DATABASE_URL, else linkbot.db."""
        return self.linkbot_database or self.database_url or "linkbot.db"

    def warnings(self) -> list[str]:
        """Settings that work, but likely not as meant; logged at start-up."""
        found = []
        if self.linkbot_database and self.database_url:
            found.append(
                "LINKBOT_DATABASE and DATABASE_URL are both set: LINKBOT_DATABASE is used, as"
                " it names linkbot's database on purpose; unset it to use DATABASE_URL"
            )
        if self.linkbot_webhook_url and postgresql_url(self.database) is None:
            found.append(
                "Webhook mode on SQLite: a second instance would keep records of its own in its"
                " own file; run more than one only on PostgreSQL (DATABASE_URL)"
            )
        return found

    @property
    def instance_id(self) -> str:
        """LINKBOT_INSTANCE_ID, else one made up for this process.

        Made of the host's name, the process id and a random part: two
        processes on one host (a restart overlapping the old run, two
        services) are two instances, never one sharing claims. A stable id
        (LINKBOT_INSTANCE_ID) lets a restarted bot finish at once the claims
        its earlier run left; a process with the id of one still running is
        refused at start-up.
        """
        return self.linkbot_instance_id or process_instance_id()

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
    def http_listen(self) -> str | None:
        """Where the HTTP side listens: LINKBOT_HTTP_LISTEN, else 0.0.0.0:$PORT, else nowhere."""
        if self.linkbot_http_listen:
            return self.linkbot_http_listen
        return None if self.port is None else f"0.0.0.0:{self.port}"

    @property
    def webhook_endpoint(self) -> str | None:
        """The URL given to setWebhook, or None in polling mode."""
        return None if self.linkbot_webhook_url is None else self.linkbot_webhook_url + WEBHOOK_PATH

    @property
    def webhook_paths(self) -> list[str]:
        """Where Telegram's updates are served: below the path of LINKBOT_WEBHOOK_URL, and at
        WEBHOOK_PATH for a proxy that strips that path off (both need the secret)."""
        if self.linkbot_webhook_url is None:
            return []
        prefix = urllib.parse.urlsplit(self.linkbot_webhook_url).path.rstrip("/")
        return [prefix + WEBHOOK_PATH] + ([WEBHOOK_PATH] if prefix else [])

    @property
    def webhook_secret(self) -> SecretStr:
        """LINKBOT_WEBHOOK_SECRET, or one derived from the bot token.

        Derived with a keyed hash, so every instance with the same token
        agrees on it (instances with secrets of their own would each
        overwrite the others' webhook), while the token itself cannot be
        read back from it.
        """
        if self.linkbot_webhook_secret is not None:
            return self.linkbot_webhook_secret
        token = self.telegram_bot_token.get_secret_value().encode()
        return SecretStr(hmac.new(token, _DERIVED_SECRET_LABEL, hashlib.sha256).hexdigest())

    @property
    def omise_test_mode(self) -> bool:
        return self.omise_secret_key.get_secret_value().startswith("skey_test_")

    def secrets(self) -> list[str]:
        """Every secret value, for scrubbing logs (the token's secret half on its own too)."""
        values = [
            self.telegram_bot_token,
            self.omise_secret_key,
            self.omise_webhook_secret,
            self.webhook_secret,
        ]
        found = [v.get_secret_value() for v in values if v is not None]
        url = postgresql_url(self.database)
        if url is not None and url.password:
            found.append(str(url.password))
        return [*found, self.telegram_bot_token.get_secret_value().partition(":")[2]]


def _encrypted_or_local(parts: urllib.parse.SplitResult) -> bool:
    """Whether an address is https, or plain http that never leaves this host."""
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS)


# How a configuration refused is introduced, by the command that refused it.
_REFUSED = {
    "run": "linkbot cannot start",
    "check": "linkbot check found the configuration unusable",
}


def env_file() -> Path:
    """The .env file settings are read from: in the current directory, where linkbot runs."""
    return Path(ENV_FILE).absolute()


def describe_errors(exc: Exception, command: str = "run") -> str:
    """One paragraph naming each variable that is missing or wrong, without its value.

    Every sentence is the bot's own: a validator's message, or what the
    setting must be (EXPECTED) where pydantic refused the value itself.
    """
    from pydantic import ValidationError

    headline = _REFUSED.get(command, _REFUSED["run"])
    if not isinstance(exc, ValidationError):
        return f"{headline}: {exc}"
    lines = []
    missing = False
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        if not field:
            lines.append(_sentence(message))
        elif error["type"] == "missing":
            missing = True
            lines.append(f"{field.upper()} is not set.")
        elif error["type"] == "value_error":
            lines.append(_sentence(f"{field.upper()} {message}"))
        else:
            expected = EXPECTED.get(field, "has a value linkbot cannot use")
            lines.append(_sentence(f"{field.upper()} {expected}"))
    where = (
        f" Set {'them' if len(lines) > 1 else 'it'} in the environment, or in a file named .env"
        f" in the current directory ({env_file()})."
    )
    # The first run of someone who installed the package: nothing is set yet.
    first = " To see the bot work first, with nothing to set up: linkbot try" if missing else ""
    return f"{headline}: {' '.join(lines)}{where}{first}"


def _sentence(text: str) -> str:
    # A message ending in an ellipsis ("123456:ABC-DEF...") already ends the sentence.
    return text if text.endswith(".") else f"{text}."
