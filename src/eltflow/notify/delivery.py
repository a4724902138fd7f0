"""Delivering one notification to one subscription endpoint.

Each function returns how many attempts it made and raises :class:`DeliveryFailed` (with that
count) when the message could not be delivered, so the caller can record the outcome.
"""

from __future__ import annotations

import json
import logging
import smtplib
from email.message import EmailMessage
from pathlib import Path

import httpx

from eltflow.clock import Clock
from eltflow.errors import EltflowError
from eltflow.notify.config import HttpPolicy, SmtpSettings
from eltflow.types import JSONObject

log = logging.getLogger("eltflow.notify")


class DeliveryFailed(EltflowError):
    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


def to_file(endpoint: str, notification: JSONObject, base: Path) -> int:
    """Append the notification as one JSON line (relative paths are under the project)."""
    path = Path(endpoint)
    if not path.is_absolute():
        path = base / path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(notification, ensure_ascii=False, separators=(",", ":")) + "\n")
    except OSError as e:
        raise DeliveryFailed(f"cannot append to {path}: {e}", 1) from e
    return 1


def to_log(endpoint: str, notification: JSONObject) -> int:
    log.info("sns %s %s", endpoint, json.dumps(notification, ensure_ascii=False))
    return 1


def to_http(
    endpoint: str,
    notification: JSONObject,
    headers: dict[str, str],
    policy: HttpPolicy,
    clock: Clock,
) -> int:
    """POST the notification; retry connection errors, 429 and 5xx with exponential backoff,
    at most ``policy.max_attempts`` times. Other 4xx answers are permanent failures."""
    body = json.dumps(notification, ensure_ascii=False).encode("utf-8")
    last = ""
    attempts = max(1, policy.max_attempts)
    with httpx.Client(timeout=policy.timeout) as client:
        for attempt in range(1, attempts + 1):
            try:
                response = client.post(endpoint, content=body, headers=headers)
            except httpx.HTTPError as e:
                last = f"{type(e).__name__}: {e}"
            else:
                if response.status_code < 300:
                    return attempt
                last = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    raise DeliveryFailed(f"{endpoint} answered {last}", attempt)
            if attempt < attempts:
                clock.sleep(policy.delay(attempt))
    raise DeliveryFailed(f"{endpoint}: gave up after {attempts} attempts ({last})", attempts)


def to_email(address: str, subject: str | None, text: str, smtp: SmtpSettings) -> int:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = address
    message["Subject"] = subject or "AWS Notification Message"
    message.set_content(text)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.username:
                server.login(smtp.username, smtp.password)
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as e:
        raise DeliveryFailed(f"SMTP {smtp.host}:{smtp.port} to {address}: {e}", 1) from e
    return 1
