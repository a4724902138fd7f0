"""Parse an Amazon States Language definition into the frozen dataclasses of :mod:`.model`.

:func:`parse` first runs the validator (so a definition AWS would reject raises
:class:`~eltflow.errors.DefinitionError` carrying *every* diagnostic), then builds the model
through ``STATE_BUILDERS``, one small builder per ``Type``. :func:`to_dict` is the inverse: it
writes the model back as ASL JSON, normalised (``Iterator`` is written as ``ItemProcessor``,
Map's older ``Parameters`` as ``ItemSelector``, defaults are left out), so that
``parse(to_dict(parse(d))) == parse(d)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from eltflow.asl import fields as F
from eltflow.asl.model import (
    JSONATA,
    JSONPATH,
    AnyState,
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    QueryLanguage,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    Template,
    WaitState,
)
from eltflow.asl.validator import check, load
from eltflow.errors import DefinitionError
from eltflow.types import JSON

Raw = Mapping[str, Any]


def parse(definition: str | Mapping[str, Any]) -> StateMachine:
    """Validate and build a definition given as JSON text or as a decoded mapping.

    Raises:
        DefinitionError: with all diagnostics, when AWS would reject the definition.

    >>> m = parse('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}')
    >>> m.states["A"].type, m.query_language
    ('Pass', 'JSONPath')
    """
    value, diagnostics = load(definition)
    if not diagnostics:
        diagnostics = check(value)
    if diagnostics:
        raise DefinitionError(diagnostics)
    top: QueryLanguage = value.get("QueryLanguage", JSONPATH)
    return StateMachine(
        start_at=value["StartAt"],
        states=_states(value["States"], top),
        query_language=top,
        comment=value.get("Comment"),
        version=value.get("Version"),
        timeout_seconds=value.get("TimeoutSeconds"),
    )


# ---------------------------------------------------------------------------------------------
# Building


def _plain(value: Any) -> JSON:
    """A deep copy as plain ``dict``/``list`` (the loader's dict subclass is not kept)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value  # type: ignore[no-any-return]


def _tpl(raw: Raw, key: str) -> Template | None:
    return Template(_plain(raw[key])) if key in raw else None


def _float(value: Any) -> Any:
    """JSON numbers of float-typed fields become floats (``2`` and ``2.0`` are one value)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _machine(raw: Raw, top: QueryLanguage) -> StateMachine:
    # States in branches / item processors inherit the machine's top-level language.
    return StateMachine(
        start_at=raw["StartAt"],
        states=_states(raw["States"], top),
        query_language=top,
        comment=raw.get("Comment"),
    )


def _states(raw: Raw, top: QueryLanguage) -> dict[str, AnyState]:
    out: dict[str, AnyState] = {}
    for name, state in raw.items():
        ql: QueryLanguage = state.get("QueryLanguage", top)
        out[name] = STATE_BUILDERS[state["Type"]](name, state, ql, top)
    return out


def _common(name: str, raw: Raw, ql: QueryLanguage) -> dict[str, Any]:
    return {
        "name": name,
        "type": raw["Type"],
        "query_language": ql,
        "comment": raw.get("Comment"),
        "next": raw.get("Next"),
        "end": raw.get("End") is True,
        "input_path": raw.get("InputPath", "$"),
        "output_path": raw.get("OutputPath", "$"),
        "assign": _tpl(raw, "Assign"),
        "output": _tpl(raw, "Output"),
    }


def _retriers(raw: Raw) -> tuple[Retrier, ...]:
    return tuple(
        Retrier(
            error_equals=tuple(r["ErrorEquals"]),
            interval_seconds=r.get("IntervalSeconds", 1),
            max_attempts=r.get("MaxAttempts", 3),
            backoff_rate=_float(r.get("BackoffRate", 2.0)),
            max_delay_seconds=r.get("MaxDelaySeconds"),
            jitter_strategy=r.get("JitterStrategy", "NONE"),
            comment=r.get("Comment"),
        )
        for r in raw.get("Retry", ())
    )


def _catchers(raw: Raw) -> tuple[Catcher, ...]:
    return tuple(
        Catcher(
            error_equals=tuple(c["ErrorEquals"]),
            next=c["Next"],
            result_path=c.get("ResultPath", "$"),
            output=_tpl(c, "Output"),
            assign=_tpl(c, "Assign"),
            comment=c.get("Comment"),
        )
        for c in raw.get("Catch", ())
    )


def _errors_and_result(raw: Raw) -> dict[str, Any]:
    return {
        "result_selector": _tpl(raw, "ResultSelector"),
        "result_path": raw.get("ResultPath", "$"),
        "retry": _retriers(raw),
        "catch": _catchers(raw),
    }


def _pass(name: str, raw: Raw, ql: QueryLanguage, top: QueryLanguage) -> PassState:
    return PassState(
        **_common(name, raw, ql),
        result=_tpl(raw, "Result"),
        result_path=raw.get("ResultPath", "$"),
        parameters=_tpl(raw, "Parameters"),
    )


def _task(name: str, raw: Raw, ql: QueryLanguage, top: QueryLanguage) -> TaskState:
    return TaskState(
        **_common(name, raw, ql),
        **_errors_and_result(raw),
        resource=raw["Resource"],
        parameters=_tpl(raw, "Parameters"),
        arguments=_tpl(raw, "Arguments"),
        timeout_seconds=raw.get("TimeoutSeconds"),
        timeout_seconds_path=raw.get("TimeoutSecondsPath"),
        heartbeat_seconds=raw.get("HeartbeatSeconds"),
        heartbeat_seconds_path=raw.get("HeartbeatSecondsPath"),
        credentials=_tpl(raw, "Credentials"),
    )


def _rule(raw: Raw) -> ChoiceRule:
    """A Choice rule, top-level (with Next) or nested in And / Or / Not."""
    top: dict[str, Any] = {
        "next": raw.get("Next"),
        "assign": _tpl(raw, "Assign"),
        "output": _tpl(raw, "Output"),
        "comment": raw.get("Comment"),
    }
    if "And" in raw or "Or" in raw:
        kind: Literal["And", "Or"] = "And" if "And" in raw else "Or"
        return ChoiceRule(kind=kind, children=tuple(_rule(r) for r in raw[kind]), **top)
    if "Not" in raw:
        return ChoiceRule(kind="Not", children=(_rule(raw["Not"]),), **top)
    if "Condition" in raw:
        return ChoiceRule(kind="Condition", condition=_plain(raw["Condition"]), **top)
    operator = next(k for k in raw if k in F.COMPARISON_OPERATORS)
    return ChoiceRule(
        kind="Compare",
        variable=raw["Variable"],
        operator=operator,
        operand=_plain(raw[operator]),
        **top,
    )


def _choice(name: str, raw: Raw, ql: QueryLanguage, top: QueryLanguage) -> ChoiceState:
    return ChoiceState(
        **_common(name, raw, ql),
        choices=tuple(_rule(r) for r in raw["Choices"]),
        default=raw.get("Default"),
    )


def _wait(name: str, raw: Raw, ql: QueryLanguage, top: QueryLanguage) -> WaitState:
    return WaitState(
        **_common(name, raw, ql),
        seconds=raw.get("Seconds"),
        seconds_path=raw.get("SecondsPath"),
        timestamp=raw.get("Timestamp"),
        timestamp_path=raw.get("TimestampPath"),
    )


def _succeed(name: str, raw: Raw, ql: QueryLanguage, top: QueryLanguage) -> SucceedState:
    return SucceedState(**_common(name, raw, ql))


def _fail(name: str, raw: Raw, ql: QueryLanguage, top: QueryLanguage) -> FailState:
    return FailState(
        **_common(name, raw, ql),
        error=raw.get("Error"),
        error_path=raw.get("ErrorPath"),
        cause=raw.get("Cause"),
        cause_path=raw.get("CausePath"),
    )


def _parallel(name: str, raw: Raw, ql: QueryLanguage, top: QueryLanguage) -> ParallelState:
    return ParallelState(
        **_common(name, raw, ql),
        **_errors_and_result(raw),
        branches=tuple(_machine(b, top) for b in raw["Branches"]),
        parameters=_tpl(raw, "Parameters"),
        arguments=_tpl(raw, "Arguments"),
    )


def _map(name: str, raw: Raw, ql: QueryLanguage, top: QueryLanguage) -> MapState:
    processor = raw["ItemProcessor"] if "ItemProcessor" in raw else raw["Iterator"]
    config = processor.get("ProcessorConfig", {})
    return MapState(
        **_common(name, raw, ql),
        **_errors_and_result(raw),
        item_processor=_machine(processor, top),
        processor_mode=config.get("Mode", "INLINE"),
        execution_type=config.get("ExecutionType"),
        items_path=raw.get("ItemsPath", "$"),
        items=_plain(raw.get("Items")),
        # ItemSelector superseded Map's Parameters; both mean the same.
        item_selector=_tpl(raw, "ItemSelector") or _tpl(raw, "Parameters"),
        max_concurrency=raw.get("MaxConcurrency", 0),
        max_concurrency_path=raw.get("MaxConcurrencyPath"),
        tolerated_failure_count=raw.get("ToleratedFailureCount"),
        tolerated_failure_count_path=raw.get("ToleratedFailureCountPath"),
        tolerated_failure_percentage=_float(raw.get("ToleratedFailurePercentage")),
        tolerated_failure_percentage_path=raw.get("ToleratedFailurePercentagePath"),
        item_reader=_tpl(raw, "ItemReader"),
        item_batcher=_tpl(raw, "ItemBatcher"),
        result_writer=_tpl(raw, "ResultWriter"),
        label=raw.get("Label"),
    )


StateBuilder = Callable[[str, Raw, QueryLanguage, QueryLanguage], AnyState]

STATE_BUILDERS: dict[str, StateBuilder] = {
    "Pass": _pass,
    "Task": _task,
    "Choice": _choice,
    "Wait": _wait,
    "Succeed": _succeed,
    "Fail": _fail,
    "Parallel": _parallel,
    "Map": _map,
}
"""``Type`` → builder(name, raw state, resolved QueryLanguage, machine QueryLanguage)."""


# ---------------------------------------------------------------------------------------------
# Serialising


def to_dict(machine: StateMachine) -> dict[str, Any]:
    """Write a parsed machine back as an ASL definition (defaults omitted).

    >>> to_dict(parse({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}))
    {'StartAt': 'A', 'States': {'A': {'Type': 'Succeed'}}}
    """
    out: dict[str, Any] = {}
    _put(out, "Comment", machine.comment)
    if machine.query_language == JSONATA:
        out["QueryLanguage"] = JSONATA
    _put(out, "Version", machine.version)
    _put(out, "TimeoutSeconds", machine.timeout_seconds)
    out["StartAt"] = machine.start_at
    out["States"] = _states_dict(machine)
    return out


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value.value if isinstance(value, Template) else value


def _states_dict(machine: StateMachine) -> dict[str, Any]:
    return {name: _state_dict(s, machine.query_language) for name, s in machine.states.items()}


def _sub_machine(machine: StateMachine) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "Comment", machine.comment)
    out["StartAt"] = machine.start_at
    out["States"] = _states_dict(machine)
    return out


def _state_dict(state: State, top: QueryLanguage) -> dict[str, Any]:
    jsonpath = state.query_language == JSONPATH
    out: dict[str, Any] = {"Type": state.type}
    if state.query_language != top:
        out["QueryLanguage"] = state.query_language
    _put(out, "Comment", state.comment)
    if jsonpath and not isinstance(state, FailState):
        for key, value in (("InputPath", state.input_path), ("OutputPath", state.output_path)):
            if value != "$":
                out[key] = value
    _put(out, "Output", state.output)
    _put(out, "Assign", state.assign)
    _TYPE_WRITERS[state.type](out, state, jsonpath)
    _put(out, "Next", state.next)
    if state.end:
        out["End"] = True
    return out


def _write_result(
    out: dict[str, Any], state: TaskState | ParallelState | MapState, jp: bool
) -> None:
    if jp:
        _put(out, "ResultSelector", state.result_selector)
        if state.result_path != "$":
            out["ResultPath"] = state.result_path
    if state.retry:
        out["Retry"] = [_retrier_dict(r) for r in state.retry]
    if state.catch:
        out["Catch"] = [_catcher_dict(c, jp) for c in state.catch]


def _retrier_dict(r: Retrier) -> dict[str, Any]:
    out: dict[str, Any] = {"ErrorEquals": list(r.error_equals)}
    if r.interval_seconds != 1:
        out["IntervalSeconds"] = r.interval_seconds
    if r.max_attempts != 3:
        out["MaxAttempts"] = r.max_attempts
    if r.backoff_rate != 2.0:
        out["BackoffRate"] = r.backoff_rate
    _put(out, "MaxDelaySeconds", r.max_delay_seconds)
    if r.jitter_strategy != "NONE":
        out["JitterStrategy"] = r.jitter_strategy
    _put(out, "Comment", r.comment)
    return out


def _catcher_dict(c: Catcher, jp: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"ErrorEquals": list(c.error_equals), "Next": c.next}
    if jp and c.result_path != "$":
        out["ResultPath"] = c.result_path
    _put(out, "Output", c.output)
    _put(out, "Assign", c.assign)
    _put(out, "Comment", c.comment)
    return out


def _rule_dict(rule: ChoiceRule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.kind in ("And", "Or"):
        out[rule.kind] = [_rule_dict(r) for r in rule.children]
    elif rule.kind == "Not":
        out["Not"] = _rule_dict(rule.children[0])
    elif rule.kind == "Condition":
        out["Condition"] = rule.condition
    else:
        out["Variable"] = rule.variable
        out[str(rule.operator)] = rule.operand
    _put(out, "Assign", rule.assign)
    _put(out, "Output", rule.output)
    _put(out, "Comment", rule.comment)
    _put(out, "Next", rule.next)
    return out


def _w_pass(out: dict[str, Any], s: Any, jp: bool) -> None:
    if jp:
        _put(out, "Result", s.result)
        if s.result_path != "$":
            out["ResultPath"] = s.result_path
        _put(out, "Parameters", s.parameters)


def _w_task(out: dict[str, Any], s: Any, jp: bool) -> None:
    out["Resource"] = s.resource
    _put(out, "Parameters", s.parameters)
    _put(out, "Arguments", s.arguments)
    _put(out, "Credentials", s.credentials)
    for key in ("TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"):
        _put(out, key, getattr(s, _snake(key)))
    _write_result(out, s, jp)


def _w_choice(out: dict[str, Any], s: Any, jp: bool) -> None:
    out["Choices"] = [_rule_dict(r) for r in s.choices]
    _put(out, "Default", s.default)


def _w_wait(out: dict[str, Any], s: Any, jp: bool) -> None:
    for key in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath"):
        _put(out, key, getattr(s, _snake(key)))


def _w_fail(out: dict[str, Any], s: Any, jp: bool) -> None:
    for key in ("Error", "ErrorPath", "Cause", "CausePath"):
        _put(out, key, getattr(s, _snake(key)))


def _w_parallel(out: dict[str, Any], s: Any, jp: bool) -> None:
    out["Branches"] = [_sub_machine(b) for b in s.branches]
    _put(out, "Parameters", s.parameters)
    _put(out, "Arguments", s.arguments)
    _write_result(out, s, jp)


def _w_map(out: dict[str, Any], s: MapState, jp: bool) -> None:
    if s.item_processor is not None:
        processor = _sub_machine(s.item_processor)
        if s.processor_mode != "INLINE" or s.execution_type is not None:
            config: dict[str, Any] = {"Mode": s.processor_mode}
            _put(config, "ExecutionType", s.execution_type)
            processor["ProcessorConfig"] = config
        out["ItemProcessor"] = processor
    if jp and s.items_path != "$":
        out["ItemsPath"] = s.items_path
    if not jp and s.items is not None:
        out["Items"] = s.items
    _put(out, "ItemSelector", s.item_selector)
    if s.max_concurrency != 0:
        out["MaxConcurrency"] = s.max_concurrency
    for key in (
        "MaxConcurrencyPath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "Label",
    ):
        _put(out, key, getattr(s, _snake(key)))
    _write_result(out, s, jp)


def _w_succeed(out: dict[str, Any], s: Any, jp: bool) -> None:
    pass


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key).lstrip("_")


_TYPE_WRITERS: dict[str, Callable[[dict[str, Any], Any, bool], None]] = {
    "Pass": _w_pass,
    "Task": _w_task,
    "Choice": _w_choice,
    "Wait": _w_wait,
    "Succeed": _w_succeed,
    "Fail": _w_fail,
    "Parallel": _w_parallel,
    "Map": _w_map,
}
