"""EventBridge rules with an event pattern: stored rules, and the dispatcher that delivers each
event to the targets of the enabled rules it matches (a state machine: StartExecution; a Lambda
function: an asynchronous invoke, as EventBridge invokes Lambda targets).

The events are the ones eltflow emits: Step Functions' "Step Functions Execution Status Change"
(``runtime/status_events``) and the Data API's "Redshift Data Statement Status Change" for
statements submitted ``WithEvent`` (``dataapi/events``). Delivery is best effort, as AWS
documents for these events: a target that cannot be started is logged and skipped, not retried
(EventBridge's retry policy and dead-letter queues are not modelled). The rules' SQL is the
named queries ``sql/rules.sql``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eltflow.errors import AwsApiError, EltflowError
from eltflow.scheduler.event_pattern import check_pattern, matches
from eltflow.scheduler.rule_targets import check_target, target_input
from eltflow.store.db import Database
from eltflow.store.queries import load_queries
from eltflow.store.rows import to_us
from eltflow.types import JSON

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class EventRule:
    name: str
    event_pattern: dict[str, Any]
    targets: tuple[dict[str, Any], ...]
    enabled: bool = True
    description: str = ""

    def arn(self, region: str, account: str) -> str:
        return rule_arn(region, account, self.name)


def rule_arn(region: str, account: str, name: str) -> str:
    """An EventBridge rule's ARN (default event bus)."""
    return f"arn:aws:events:{region}:{account}:rule/{name}"


def checked_rule(
    name: str, pattern: Any, targets: Any, *, enabled: bool = True, description: str = ""
) -> EventRule:
    """A rule, validated as PutRule/PutTargets validate it (AWS's exception names)."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError:
            raise AwsApiError(
                "InvalidEventPatternException", "Event pattern is not valid JSON"
            ) from None
    check_pattern(pattern)
    if not isinstance(targets, list):
        raise AwsApiError("ValidationException", "Targets must be a list")
    if len(targets) > 5:
        raise AwsApiError("LimitExceededException", "A rule can have at most 5 targets")
    for i, target in enumerate(targets):
        check_target(target, f"Targets[{i}]")
    return EventRule(
        name=name,
        event_pattern=pattern,
        targets=tuple(targets),
        enabled=enabled,
        description=description,
    )


class RuleStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.q = load_queries("eltflow.scheduler", db.dialect, "rules")

    def put(self, rule: EventRule, now: datetime, *, source: str = "api") -> None:
        row = {
            "n": rule.name,
            "p": json.dumps(rule.event_pattern),
            "t": json.dumps(list(rule.targets)),
            "s": "ENABLED" if rule.enabled else "DISABLED",
            "d": rule.description,
            "src": source,
            "c": to_us(now),
        }
        with self.db.transaction() as conn:
            conn.execute(self.q["delete_rule"], row)
            conn.execute(self.q["insert_rule"], row)

    def delete(self, name: str) -> bool:
        with self.db.transaction() as conn:
            found = conn.execute(self.q["rule_exists"], {"n": name})
            conn.execute(self.q["delete_rule"], {"n": name})
        return bool(found)

    def any_enabled(self) -> bool:
        rows = self.db.execute(self.q["any_enabled_rule"])
        return bool(rows)

    def enabled(self) -> list[EventRule]:
        rows = self.db.execute(self.q["enabled_rules"])
        return [
            EventRule(
                name=str(r["name"]),
                event_pattern=json.loads(r["event_pattern"]),
                targets=tuple(json.loads(r["targets"])),
                enabled=True,
                description=str(r["description"]),
            )
            for r in rows
        ]


StartExecution = Callable[[str, str], object]  # (state machine ARN, input JSON text)
InvokeAsync = Callable[[str, JSON], object]  # (function name or ARN, payload)


@dataclass(frozen=True)
class Delivery:
    rule: str
    target: str
    input: str


class RuleDispatcher:
    """Delivers events to the targets of matching rules (a subscriber of the status events)."""

    def __init__(
        self,
        rules: RuleStore,
        start_execution: StartExecution,
        invoke_async: InvokeAsync | None,
        *,
        region: str,
        account: str,
    ) -> None:
        self.rules = rules
        self.start_execution = start_execution
        self.invoke_async = invoke_async
        self.region = region
        self.account = account
        self._lock = threading.Lock()
        self._known: tuple[float, bool] | None = None  # (monotonic time read, any rules)

    def known_interest(self) -> bool | None:
        """What :meth:`interested` answers now without reading the store; None when it would
        read it (never read, or read over a second ago)."""
        with self._lock:
            known = self._known
        if known is not None and time.monotonic() - known[0] < 1.0:
            return known[1]
        return None

    def interested(self) -> bool:
        """Whether any rule is enabled, read from the store at most once a second (a rule a
        stack deploys in another process is seen within that second)."""
        now = time.monotonic()
        with self._lock:
            known = self._known
        if known is not None and now - known[0] < 1.0:
            return known[1]
        found = self.rules.any_enabled()
        with self._lock:
            self._known = (now, found)
        return found

    def __call__(self, events: list[dict[str, Any]]) -> list[Delivery]:
        """Deliver ``events`` (one store read of the rules for the batch)."""
        rules = self.rules.enabled()
        done: list[Delivery] = []
        for event in events if rules else []:
            for rule in rules:
                if not matches(rule.event_pattern, event):
                    continue
                arn = rule.arn(self.region, self.account)
                for target in rule.targets:
                    delivery = self._deliver(rule, arn, target, event)
                    if delivery is not None:
                        done.append(delivery)
        return done

    def _deliver(
        self, rule: EventRule, rule_arn: str, target: dict[str, Any], event: dict[str, Any]
    ) -> Delivery | None:
        arn = str(target["Arn"])
        try:
            text = target_input(target, event, rule.name, rule_arn)
            if ":states:" in arn and ":stateMachine:" in arn:
                self.start_execution(arn, text)
            elif ":lambda:" in arn and ":function:" in arn and self.invoke_async is not None:
                self.invoke_async(arn.split(":function:", 1)[1], json.loads(text))
            else:
                log.warning("rule %s: target %s is not a state machine or function", rule.name, arn)
                return None
        except (EltflowError, ValueError) as e:
            # Best effort, as EventBridge's delivery of these events: logged, not retried.
            log.warning("rule %s: could not deliver to %s: %s", rule.name, arn, e)
            return None
        return Delivery(rule.name, arn, text)
