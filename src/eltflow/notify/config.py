"""``[topics.<name>]`` and ``[notify.*]`` in eltflow.toml.

[topics.pipeline-events]
subscriptions = [
  { protocol = "file", endpoint = ".eltflow/notifications.jsonl" },
  { protocol = "https", endpoint = "https://hooks.example.com/etl" },
  { protocol = "email", endpoint = "oncall@example.com" },
]

[notify.http]            # webhook retries: attempts and backoff (seconds)
max_attempts = 4
backoff_base = 0.5
backoff_max = 8
timeout = 5

[notify.smtp]
host = "localhost"
port = 25
sender = "eltflow@localhost"
starttls = false
username = ""            # optional
password = ""
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eltflow.config import CONFIG_FILE, Settings
from eltflow.errors import ConfigError

PROTOCOLS = ("file", "log", "http", "https", "email", "email-json")


@dataclass(frozen=True, kw_only=True)
class HttpPolicy:
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    timeout: float = 5.0

    def delay(self, attempt: int) -> float:
        """Backoff before retry number ``attempt`` (1-based): base * 2^(attempt-1), capped."""
        return float(min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1))))


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    sender: str = "eltflow@localhost"
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 10.0


@dataclass(frozen=True, kw_only=True)
class TopicSpec:
    name: str
    subscriptions: tuple[tuple[str, str], ...] = ()  # (protocol, endpoint)


@dataclass(frozen=True, kw_only=True)
class NotifySettings:
    topics: tuple[TopicSpec, ...] = ()
    http: HttpPolicy = field(default_factory=HttpPolicy)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    region: str = "us-east-1"
    account: str = "123456789012"


def check_subscription(protocol: str, endpoint: str, where: str) -> None:
    if protocol not in PROTOCOLS:
        raise ConfigError(
            f"{where}: protocol must be one of {', '.join(PROTOCOLS)} (got {protocol!r})"
        )
    if not endpoint:
        raise ConfigError(f"{where}: endpoint is required")
    if protocol in ("http", "https") and not endpoint.startswith(f"{protocol}://"):
        raise ConfigError(f"{where}: a {protocol} endpoint must start with {protocol}://")
    if protocol.startswith("email") and "@" not in endpoint:
        raise ConfigError(f"{where}: an email endpoint must be an address")


def notify_settings(settings: Settings) -> NotifySettings:
    topics = []
    for name, body in settings.section("topics").items():
        where = f"{CONFIG_FILE}: [topics.{name}]"
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where} must be a table")
        subs = []
        for i, sub in enumerate(body.get("subscriptions", [])):
            w = f"{where} subscriptions[{i}]"
            if not isinstance(sub, Mapping):
                raise ConfigError(f"{w} must be a table with protocol and endpoint")
            protocol, endpoint = str(sub.get("protocol", "")), str(sub.get("endpoint", ""))
            check_subscription(protocol, endpoint, w)
            subs.append((protocol, endpoint))
        topics.append(TopicSpec(name=name, subscriptions=tuple(subs)))
    notify = settings.section("notify")
    http = _table(notify, "http")
    smtp = _table(notify, "smtp")
    aws = settings.section("aws")
    try:
        return NotifySettings(
            topics=tuple(topics),
            http=HttpPolicy(**{k: _num(k, v) for k, v in http.items()}),
            smtp=SmtpSettings(**smtp),
            region=str(aws.get("region", "us-east-1")),
            account=str(aws.get("account", "123456789012")),
        )
    except TypeError as e:
        raise ConfigError(f"{CONFIG_FILE}: [notify]: {e}") from e


def _table(section: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = section.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{CONFIG_FILE}: [notify.{key}] must be a table")
    return dict(value)


def _num(key: str, value: Any) -> Any:
    if not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{CONFIG_FILE}: [notify.http] {key} must be a non-negative number")
    return value
