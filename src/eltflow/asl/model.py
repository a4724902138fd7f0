"""The parsed form of an Amazon States Language definition: frozen dataclasses, one per state type.

Conventions (shared by parser, validator, data flow and interpreter):
- ``query_language`` on every state is *resolved*: the state's own ``QueryLanguage`` or the
  machine's (default ``JSONPath``).
- Path fields that ASL lets you set to ``null`` keep that distinction: ``input_path`` and
  ``output_path`` default to ``"$"`` and are ``None`` when the definition says ``null`` (the
  state then sees ``{}``); ``result_path`` defaults to ``"$"`` and ``None`` means "discard the
  result, keep the input".
- Payload templates (``Parameters``, ``ResultSelector``, ``ItemSelector``, ``Arguments``,
  ``Output``, ``Result``, ``Assign`` values...) are kept as raw JSON in a :class:`Template` so
  that an absent field (``None``) differs from a field whose value is JSON ``null``.
- In JSONata states, fields that may hold an expression (``TimeoutSeconds``, ``Seconds``,
  ``MaxConcurrency``, ``Items``...) are ``int | str``; a ``str`` is a ``{% ... %}`` expression.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from eltflow.types import JSON

QueryLanguage = Literal["JSONPath", "JSONata"]
JSONPATH: QueryLanguage = "JSONPath"
JSONATA: QueryLanguage = "JSONata"


@dataclass(frozen=True, slots=True)
class Template:
    """A raw JSON payload template, evaluated later by the data-flow module."""

    value: JSON
    # A cache, not part of the definition: the JSONPath evaluation compiled on first use
    # (``interpreter.flow.compiled``): None until tried, False when it cannot be compiled.
    plan: object = field(default=None, init=False, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    jitter_strategy: Literal["FULL", "NONE"] = "NONE"
    comment: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = "$"  # JSONPath states only
    output: Template | None = None  # JSONata states only
    assign: Template | None = None
    comment: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ChoiceRule:
    """A Choice rule or a nested boolean expression.

    ``kind`` is ``"And"``, ``"Or"``, ``"Not"``, ``"Condition"`` (JSONata) or ``"Compare"``
    (JSONPath: ``variable`` + ``operator`` such as ``"StringEquals"`` / ``"NumericLessThanPath"``
    / ``"IsPresent"`` with its ``operand``). Only top-level rules have ``next`` (and may have
    ``assign``/``output``).
    """

    kind: Literal["And", "Or", "Not", "Compare", "Condition"]
    variable: str | None = None
    operator: str | None = None
    operand: JSON = None
    children: tuple[ChoiceRule, ...] = ()
    condition: JSON = None  # JSONata: a "{% ... %}" string, or a literal boolean
    next: str | None = None
    assign: Template | None = None
    output: Template | None = None
    comment: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class State:
    """Fields common to every state type."""

    name: str
    type: str
    query_language: QueryLanguage = JSONPATH
    comment: str | None = None
    next: str | None = None
    end: bool = False
    input_path: str | None = "$"
    output_path: str | None = "$"
    assign: Template | None = None
    output: Template | None = None  # JSONata


@dataclass(frozen=True, kw_only=True, slots=True)
class PassState(State):
    result: Template | None = None
    result_path: str | None = "$"
    parameters: Template | None = None
    # Derived, not a field of ASL: the state hands its input on unchanged (no Parameters,
    # Result, Assign or Output, every path "$"), so the interpreter may run a row of such
    # states in one loop (``Stepper.enter``) instead of one dispatch per state.
    passthrough: bool = field(init=False, compare=False, repr=False, default=False)

    def __post_init__(self) -> None:
        if self.query_language == JSONATA:
            plain = self.output is None and self.assign is None
        else:
            plain = (
                self.parameters is None
                and self.result is None
                and self.assign is None
                and self.input_path == "$"
                and self.result_path == "$"
                and self.output_path == "$"
            )
        object.__setattr__(self, "passthrough", plain)  # frozen: set once, at construction


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskState(State):
    resource: str = ""
    parameters: Template | None = None
    arguments: Template | None = None  # JSONata
    result_selector: Template | None = None
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    timeout_seconds: int | str | None = None
    timeout_seconds_path: str | None = None
    heartbeat_seconds: int | str | None = None
    heartbeat_seconds_path: str | None = None
    credentials: Template | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ChoiceState(State):
    choices: tuple[ChoiceRule, ...] = ()
    default: str | None = None
    # A cache, not part of the definition: the rules compiled on first use
    # (``asl.choice.compile_choices``): None until tried, False when they cannot be.
    plan: object = field(default=None, init=False, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class WaitState(State):
    seconds: int | str | None = None
    seconds_path: str | None = None
    timestamp: str | None = None
    timestamp_path: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SucceedState(State):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class FailState(State):
    error: str | None = None
    error_path: str | None = None
    cause: str | None = None
    cause_path: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ParallelState(State):
    branches: tuple[StateMachine, ...] = ()
    parameters: Template | None = None
    arguments: Template | None = None  # JSONata
    result_selector: Template | None = None
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class MapState(State):
    item_processor: StateMachine | None = None  # from ItemProcessor or the older Iterator
    processor_mode: Literal["INLINE", "DISTRIBUTED"] = "INLINE"
    execution_type: str | None = None
    items_path: str | None = "$"
    items: JSON = None  # JSONata: an array or a "{% %}" expression
    item_selector: Template | None = None  # from ItemSelector or the older Parameters
    max_concurrency: int | str = 0  # 0 = no limit
    max_concurrency_path: str | None = None
    tolerated_failure_count: int | str | None = None
    tolerated_failure_count_path: str | None = None
    tolerated_failure_percentage: float | str | None = None
    tolerated_failure_percentage_path: str | None = None
    result_selector: Template | None = None
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    item_reader: Template | None = None
    item_batcher: Template | None = None
    result_writer: Template | None = None
    label: str | None = None


AnyState = (
    PassState
    | TaskState
    | ChoiceState
    | WaitState
    | SucceedState
    | FailState
    | ParallelState
    | MapState
)


@dataclass(frozen=True, kw_only=True, slots=True)
class StateMachine:
    """A whole definition, or one Parallel branch / Map item processor."""

    start_at: str
    states: Mapping[str, AnyState] = field(default_factory=dict)
    query_language: QueryLanguage = JSONPATH
    comment: str | None = None
    version: str | None = None
    timeout_seconds: int | None = None
    # A cache, not part of the definition: for a passthrough Pass state (by name), the row of
    # passthrough states after it and where the row leads (``interpreter.step._row``).
    pass_rows: dict[str, tuple[tuple[str, ...], str | None]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # A cache too: the machine a frame runs, by the frame's path from this one (() is this
    # machine; ``interpreter.step.Stepper.machine_of``), filled on first use. Not an __init__
    # argument, so a dataclasses.replace copy (express.py's) starts its own: () is the copy.
    sub_machines: dict[tuple[str, ...], StateMachine] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )


def keep_plan(owner: Template | ChoiceState, plan: object) -> object:
    """Keep ``plan``, ``owner``'s compiled evaluation (False when ``plan`` is None: it cannot
    be compiled), on ``owner``, and return what was kept.

    The one place a parsed (frozen) model object is written after construction: ``plan`` is
    a cache (``compare=False``, never serialised) that every execution of the machine
    shares, so it is worked out once, on first use."""
    kept = plan or False
    object.__setattr__(owner, "plan", kept)
    return kept
