"""Pass, Choice, Wait, Succeed and Fail: the states that need no task.

Each ``enter_*`` runs when the state is entered (after ``<Type>StateEntered``); it either exits
the state through ``stepper.exit`` or blocks the frame (Wait arms a timer).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from eltflow.asl import choice as asl_choice
from eltflow.asl import errors as asl_errors
from eltflow.asl.fields import MAX_SECONDS
from eltflow.asl.model import (
    JSONATA,
    ChoiceRule,
    ChoiceState,
    FailState,
    PassState,
    SucceedState,
    Template,
    WaitState,
    keep_plan,
)
from eltflow.errors import StatesError
from eltflow.interpreter import events as ev
from eltflow.interpreter import flow
from eltflow.types import JSON, JSONObject

if TYPE_CHECKING:
    from eltflow.interpreter.state import Frame
    from eltflow.interpreter.step import Stepper


_MENTIONS: dict[int, tuple[object, bool]] = {}


def mentions_context(part: object) -> bool:
    """Whether a JSONPath state's template or rules can read the context object: only a
    ``$$`` path (or an intrinsic argument) does, so without the two characters anywhere in
    its text the context object is never built (it was ~15% of a Choice loop). Cached per
    object (the parsed machine's, kept alive with it: identity is checked)."""
    hit = _MENTIONS.get(id(part))
    if hit is not None and hit[0] is part:
        return hit[1]
    found = "$$" in repr(part)
    if len(_MENTIONS) >= 4096:
        _MENTIONS.clear()
    _MENTIONS[id(part)] = (part, found)
    return found


_NO_CONTEXT: JSONObject = {}


def _context_if_used(stepper: Stepper, frame: Frame, part: object) -> JSONObject:
    return stepper.context(frame) if mentions_context(part) else _NO_CONTEXT


def jsonata_states(stepper: Stepper, frame: Frame, **extra: JSON) -> JSONObject:
    states: JSONObject = {"input": frame.input, "context": stepper.context(frame)}
    states.update(extra)
    return states


def io_path(stepper: Stepper, frame: Frame, path: str | None, data: JSON, field: str) -> JSON:
    """InputPath / OutputPath. Like every JSONPath field they may read the context object
    (``"InputPath": "$$.Execution.Input"``) or a variable (``"OutputPath": "$answer"``, the value
    at state entry); both are built only for such a path."""
    if path == "$":  # the default, and by far the most common: the identity
        return data
    if path is None or path.startswith(("$.", "$[")):
        return flow.select(path, data, field)
    return flow.select(path, data, field, stepper.context(frame), stepper.variables(frame))


def path_value(stepper: Stepper, frame: Frame, path: str, data: JSON, field: str) -> JSON:
    """Evaluate a ``...Path`` field: a path into ``data``, or ``$$...`` / ``$var`` / an
    intrinsic function; a miss of the latter names ``field`` in its cause."""
    if path == "$" or path.startswith(("$.", "$[")):
        return flow.select(path, data, field)
    return flow.field_value(
        path, data, stepper.context(frame), stepper.variables(frame), stepper.rng(), field
    )


# --- Pass -------------------------------------------------------------------------------------


def enter_pass(stepper: Stepper, frame: Frame, state: PassState) -> None:
    if state.query_language == JSONATA:
        _exit_jsonata(stepper, frame, state, None)
        return
    # A ``passthrough`` Pass (no field but Next/End) never gets here: Stepper.enter runs it.
    raw = frame.input
    effective = io_path(stepper, frame, state.input_path, raw, "InputPath")
    result = effective
    params = state.parameters
    if params is not None:
        result = flow.compiled(params, effective)  # needs no context, generator or variables
        if result is flow.UNCOMPILED:
            result = flow.template(
                params,
                effective,
                _context_if_used(stepper, frame, params),
                frame.variables if frame.parent is None else stepper.variables(frame),
                stepper.rng(),
                "Parameters",
            )
    if state.result is not None:
        result = state.result.value
    assigned = None
    if state.assign is not None:
        assigned = flow.assign_jsonpath(
            state.assign,
            result,
            _context_if_used(stepper, frame, state.assign),
            stepper.variables(frame),
            stepper.rng(),
        )
    output = flow.place_result(state.result_path, raw, result)
    output = io_path(stepper, frame, state.output_path, output, "OutputPath")
    stepper.exit(frame, state, output, assigned)


def _exit_jsonata(
    stepper: Stepper,
    frame: Frame,
    state: Any,
    next_state: str | None,
    *,
    output_tpl: Template | None = None,
    assign_tpl: Template | None = None,
    use_state_fields: bool = True,
    field_prefix: str = "",
) -> None:
    """Leave a JSONata state: Output (default: the input) and Assign, both seeing old values."""
    if use_state_fields:
        output_tpl = state.output
        assign_tpl = state.assign
    output: JSON = frame.input
    assigned = None
    if output_tpl is not None or assign_tpl is not None:
        states = jsonata_states(stepper, frame)
        variables = stepper.variables(frame)
        if output_tpl is not None:
            output = flow.jsonata(
                output_tpl, states, variables, stepper.rng(), f"{field_prefix}Output"
            )
        assigned = flow.assign_jsonata(
            assign_tpl, states, variables, stepper.rng(), f"{field_prefix}Assign"
        )
    stepper.exit(frame, state, output, assigned, next_state=next_state)


# --- Choice -----------------------------------------------------------------------------------


def enter_choice(stepper: Stepper, frame: Frame, state: ChoiceState) -> None:
    variables = frame.variables if frame.parent is None else stepper.variables(frame)
    if state.query_language == JSONATA:
        states = jsonata_states(stepper, frame)

        def condition(rule: ChoiceRule) -> bool:
            if isinstance(rule.condition, bool):
                return rule.condition
            # AWS names the field by the rule's position: "Choices[1]/Condition".
            where = f"Choices[{_index(state, rule)}]/Condition"
            value = flow.jsonata(rule.condition, states, variables, stepper.rng(), where)
            if not isinstance(value, bool):
                raise StatesError(
                    asl_errors.QUERY_EVALUATION_ERROR,
                    f"The Condition field evaluated to {ev.dumps(value)}, not a boolean.",
                )
            return value

        rule = asl_choice.choose(
            state, frame.input, states["context"], variables, condition=condition
        )
        target = _target(stepper, frame, state, rule)
        if rule is not None:
            _exit_jsonata(
                stepper,
                frame,
                state,
                target,
                output_tpl=rule.output,
                assign_tpl=rule.assign,
                use_state_fields=False,
                field_prefix=f"Choices[{_index(state, rule)}]/",
            )
        else:
            _exit_jsonata(stepper, frame, state, target)
        return
    effective = io_path(stepper, frame, state.input_path, frame.input, "InputPath")
    plan: Any = state.plan
    if plan is None:
        plan = keep_plan(state, asl_choice.compile_choices(state))
    context: JSONObject | None = None
    try:
        rule = plan(effective) if plan is not False else _UNCHOSEN
    except Exception:  # off the compiled path: the general evaluation decides
        rule = _UNCHOSEN
    if rule is _UNCHOSEN:
        context = _context_if_used(stepper, frame, state)
        rule = asl_choice.choose(state, effective, context, variables)
    target = _target(stepper, frame, state, rule)
    assign_tpl = rule.assign if rule is not None else state.assign
    assigned = None
    if assign_tpl is not None:  # the generator is made only for an Assign that may draw
        if context is None:
            context = _context_if_used(stepper, frame, state)
        assigned = flow.assign_jsonpath(assign_tpl, effective, context, variables, stepper.rng())
    output = io_path(stepper, frame, state.output_path, effective, "OutputPath")
    stepper.exit(frame, state, output, assigned, next_state=target)


_UNCHOSEN: Any = object()  # the compiled rules had no answer: evaluate the general way


def _index(state: ChoiceState, rule: ChoiceRule) -> int:
    for i, candidate in enumerate(state.choices):
        if candidate is rule:
            return i
    return 0


def _target(stepper: Stepper, frame: Frame, state: ChoiceState, rule: ChoiceRule | None) -> str:
    if rule is not None and rule.next is not None:
        return rule.next
    if state.default is not None:
        return state.default
    raise StatesError(
        asl_errors.NO_CHOICE_MATCHED,
        "Failed to transition out of the state. "
        "No Choice Rule matched and no Default state was specified.",
    )


# --- Wait -------------------------------------------------------------------------------------


def enter_wait(stepper: Stepper, frame: Frame, state: WaitState) -> None:
    due = _wait_due(stepper, frame, state)
    stepper.arm_timer(frame, f"{frame.task_key}/wait", due)


def _wait_due(stepper: Stepper, frame: Frame, state: WaitState) -> datetime:
    jsonata = state.query_language == JSONATA
    seconds: JSON = None
    timestamp: JSON = None
    if jsonata:
        states = jsonata_states(stepper, frame)
        variables = stepper.variables(frame)
        if state.seconds is not None:
            seconds = flow.jsonata(state.seconds, states, variables, stepper.rng(), "Seconds")
        if state.timestamp is not None:
            timestamp = flow.jsonata(state.timestamp, states, variables, stepper.rng(), "Timestamp")
            return _parse_timestamp(timestamp, "Timestamp", "Timestamp", jsonata=True)
    else:
        effective = io_path(stepper, frame, state.input_path, frame.input, "InputPath")
        seconds = state.seconds
        if state.timestamp is not None:
            return _parse_timestamp(state.timestamp, "Timestamp", state.timestamp, jsonata=False)
        if state.seconds_path is not None:
            seconds = _wait_path(stepper, frame, state.seconds_path, effective, "SecondsPath")
            # AWS's causes for a SecondsPath that is not a non-negative integer.
            where = f"{state.seconds_path} == {_plain(seconds)}"
            if not isinstance(seconds, int) or isinstance(seconds, bool):
                raise StatesError(
                    asl_errors.RUNTIME,
                    f"The SecondsPath parameter cannot be parsed as a long value: {where}",
                )
            if seconds < 0:
                raise StatesError(
                    asl_errors.RUNTIME,
                    f"The SecondsPath parameter references a negative value: {where}",
                )
        if state.timestamp_path is not None:
            timestamp = _wait_path(stepper, frame, state.timestamp_path, effective, "TimestampPath")
            return _parse_timestamp(timestamp, "TimestampPath", state.timestamp_path, jsonata=False)
    # Docs: Seconds is "an integer value from 0 to 99999999"; a JSONata expression "must
    # evaluate to an integer in the stated range" (a whole double such as 4/2 is one).
    if (
        not isinstance(seconds, int | float)
        or isinstance(seconds, bool)
        or not 0 <= seconds <= MAX_SECONDS
        or (isinstance(seconds, float) and not seconds.is_integer())
    ):
        raise StatesError(
            asl_errors.QUERY_EVALUATION_ERROR if jsonata else asl_errors.RUNTIME,
            f"The Seconds field must be a non-negative integer: {ev.dumps(seconds)}",
        )
    return stepper.after(float(seconds))


def _plain(value: JSON) -> str:
    return value if isinstance(value, str) else ev.dumps(value)


def _wait_path(stepper: Stepper, frame: Frame, path: str, data: JSON, field: str) -> JSON:
    try:
        return path_value(stepper, frame, path, data, field)
    except StatesError as e:
        if e.error != asl_errors.RUNTIME:
            raise
        raise StatesError(
            asl_errors.RUNTIME,
            f"The {field} parameter does not reference an input value: {path}",
        ) from None


def _parse_timestamp(value: JSON, field: str, source: str, *, jsonata: bool) -> datetime:
    """The Wait docs' timestamp: "the RFC3339 profile of ISO 8601, with the further
    restrictions that an uppercase T must separate the date and time portions, and an uppercase
    Z must denote that a numeric time zone offset is not present" (the validator's rule for a
    literal), and "Step Functions considers the time value up to seconds and truncates
    milliseconds". The offset is applied (the due time is UTC).

    The JSONata cause is unverified: no AWS recording of it was found (LocalStack words it as
    the TimestampPath cause, ``The Timestamp parameter does not reference ... : <expr> ==
    <value>`` with ``States.Runtime``, also without a recording)."""
    seconds = asl_choice.parse_timestamp(value) if isinstance(value, str) else None
    if seconds is not None:  # the rule Choice's timestamp comparisons apply, same regex
        return datetime.fromtimestamp(math.floor(seconds), UTC)
    if jsonata:
        raise StatesError(
            asl_errors.QUERY_EVALUATION_ERROR,
            f"The Timestamp field evaluated to {ev.dumps(value)}, which is not a valid ISO-8601 "
            "extended offset date-time format string.",
        )
    raise StatesError(
        asl_errors.RUNTIME,
        f"The {field} parameter does not reference a valid ISO-8601 extended offset date-time "
        f"format string: {source} == {_plain(value)}",
    )


def wait_done(stepper: Stepper, frame: Frame, state: WaitState) -> None:
    if state.query_language == JSONATA:
        _exit_jsonata(stepper, frame, state, None)
        return
    effective = io_path(stepper, frame, state.input_path, frame.input, "InputPath")
    assigned = flow.assign_jsonpath(
        state.assign, effective, stepper.context(frame), stepper.variables(frame), stepper.rng()
    )
    output = io_path(stepper, frame, state.output_path, effective, "OutputPath")
    stepper.exit(frame, state, output, assigned)


# --- Succeed / Fail ---------------------------------------------------------------------------


def enter_succeed(stepper: Stepper, frame: Frame, state: SucceedState) -> None:
    if state.query_language == JSONATA:
        output: JSON = frame.input
        if state.output is not None:
            output = flow.jsonata(
                state.output,
                jsonata_states(stepper, frame),
                stepper.variables(frame),
                stepper.rng(),
                "Output",
            )
    else:
        effective = io_path(stepper, frame, state.input_path, frame.input, "InputPath")
        output = io_path(stepper, frame, state.output_path, effective, "OutputPath")
    text = stepper.payload_text(output, state.name)
    stepper.emit(frame, ev.state_exited(state.type, state.name, text))
    stepper.frame_succeeded(frame, output)


def enter_fail(stepper: Stepper, frame: Frame, state: FailState) -> None:
    error: JSON = state.error
    cause: JSON = state.cause
    if state.query_language == JSONATA:
        states = jsonata_states(stepper, frame)
        variables = stepper.variables(frame)
        if isinstance(error, str):
            error = flow.jsonata(error, states, variables, stepper.rng(), "Error")
        if isinstance(cause, str):
            cause = flow.jsonata(cause, states, variables, stepper.rng(), "Cause")
    else:
        # AWS words a miss here "The JSONPath '$.x' specified for the field 'ErrorPath' ...";
        # an intrinsic (States.Format(...)) is allowed too.
        for name, path in (("ErrorPath", state.error_path), ("CausePath", state.cause_path)):
            if path is None:
                continue
            value = flow.field_value(
                path,
                frame.input,
                stepper.context(frame),
                stepper.variables(frame),
                stepper.rng(),
                name,
            )
            if name == "ErrorPath":
                error = value
            else:
                cause = value
    for name, value in (("Error", error), ("Cause", cause)):
        if value is not None and not isinstance(value, str):
            raise StatesError(
                asl_errors.RUNTIME,
                f"The {name} field must resolve to a string: {ev.dumps(value)}",
            )
    stepper.frame_failed(frame, cast("str | None", error), cast("str | None", cause))
