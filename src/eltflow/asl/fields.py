"""The one table of Amazon States Language fields, read by both the parser and the validator.

Every JSON object of a definition (the top level, a state of each ``Type``, a Retrier, a
Catcher, a Choice rule, a Map ``ItemProcessor`` and its ``ProcessorConfig``...) is described by
an :class:`ObjectSpec`: which fields exist, their kind, whether they are required, which query
language they belong to, their numeric range, and which fields exclude each other. This is
sqlglot's ``arg_types`` idea: no class per field; the validator walks these specs to collect
diagnostics and the parser walks the same specs to know which model attribute a field fills.

Field sets per state type follow AWS's ``ValidateStateMachineDefinition`` (e.g. ``Output`` is
accepted on Succeed but not on Fail; ``Assign`` on Pass, Task, Map, Parallel, Choice and Wait
only; Map takes no ``Arguments``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from eltflow.asl.model import JSONATA, JSONPATH, QueryLanguage

Kind = Literal[
    "string",  # a JSON string; ``choices`` restricts it to an enumeration
    "boolean",
    "integer",  # a JSON integer (``expr``: or a ``{% %}`` string in JSONata states)
    "number",
    "object",
    "path",  # a JSONPath (``$``, ``$$`` context, or a ``$variable``); may be null if nullable
    "reference_path",  # a JSONPath that names exactly one node of the state input (ResultPath)
    "node_path",  # a JSONPath that names one node, also of ``$$`` or a variable (ItemsPath)
    "path_or_intrinsic",  # a path or an intrinsic function call (Fail ErrorPath / CausePath)
    "template",  # any JSON payload template (``.$`` keys / ``{% %}`` strings inside)
    "literal",  # any JSON value, taken as it is (``.$`` keys inside are plain keys)
    "timestamp",  # an RFC 3339 timestamp string (``expr``: or a ``{% %}`` string)
    "error_names",  # non-empty array of error-name strings
    "states",  # the ``States`` object of a (sub-)machine
    "retriers",  # array of Retrier objects
    "catchers",  # array of Catcher objects
    "choice_rules",  # array of top-level Choice rules (non-empty)
    "nested_rules",  # array of nested Choice rules (And / Or)
    "nested_rule",  # one nested Choice rule (Not)
    "branches",  # array of Parallel branches (non-empty)
    "processor",  # a Map ItemProcessor / Iterator
    "processor_config",
    "items",  # JSONata Map Items: an array, an object, or a ``{% %}`` expression
    "condition",  # JSONata Choice Condition: a boolean or a ``{% %}`` expression
    "resource",  # a Task Resource ARN
]


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an object: its kind and constraints.

    ``language`` set means the field is only supported for that query language (AWS:
    "field 'X' is only supported for the 'JSONata' QueryLanguage"). ``expr`` means a JSONata
    state may give a ``{% %}`` expression instead of the literal value.
    """

    kind: Kind
    required: bool = False
    language: QueryLanguage | None = None
    nullable: bool = False
    expr: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """The fields of one kind of JSON object, plus its mutually exclusive groups.

    ``at_most_one``: AWS "There should only be one of the following fields: [A, B]".
    ``exactly_one``: the same, and also "This object should have only one of the following
    fields: [A, B]" when none is present.
    """

    fields: Mapping[str, Field]
    at_most_one: tuple[tuple[str, ...], ...] = ()
    exactly_one: tuple[tuple[str, ...], ...] = ()


MAX_SECONDS = 99_999_999
"""AWS's upper bound for TimeoutSeconds, HeartbeatSeconds, Seconds, IntervalSeconds..."""

MAX_DELAY_SECONDS = 31_622_400
"""AWS's upper bound for a retrier's MaxDelaySeconds (366 days)."""

MAX_STATE_NAME_LENGTH = 80
MAX_DEFINITION_BYTES = 1_048_576

_STR = Field("string")
_P = JSONPATH
_A = JSONATA

# Fields every state accepts.
_COMMON: dict[str, Field] = {
    "Type": Field("string", required=True),
    "Comment": _STR,
    "QueryLanguage": Field("string", choices=(JSONPATH, JSONATA)),
}
_INPUT_OUTPUT: dict[str, Field] = {
    "InputPath": Field("path", language=_P, nullable=True),
    "OutputPath": Field("path", language=_P, nullable=True),
    "Output": Field("template", language=_A),
}
_TRANSITION: dict[str, Field] = {"Next": _STR, "End": Field("boolean")}
_ASSIGN: dict[str, Field] = {"Assign": Field("object")}
_RESULT: dict[str, Field] = {
    "ResultPath": Field("reference_path", language=_P, nullable=True),
    "ResultSelector": Field("template", language=_P),
}
_ERRORS: dict[str, Field] = {"Retry": Field("retriers"), "Catch": Field("catchers")}

NEXT_OR_END = ("Next", "End")
# Spec: "Any state except for Choice, Succeed, and Fail MAY have a field named "End" whose value
# MUST be a boolean"; a non-terminal state MUST have a single "Next" field. AWS: "There should
# only be one of the following fields: [Next, End]".

STATE_SPECS: dict[str, ObjectSpec] = {
    "Pass": ObjectSpec(
        {
            **_COMMON,
            **_INPUT_OUTPUT,
            **_TRANSITION,
            **_ASSIGN,
            # Spec: "Result ... is treated as the output of a virtual task"; it is not a
            # payload template, so keys ending in ".$" inside it are kept as written.
            "Result": Field("literal", language=_P),
            "ResultPath": Field("reference_path", language=_P, nullable=True),
            "Parameters": Field("template", language=_P),
        },
        exactly_one=(NEXT_OR_END,),
    ),
    "Task": ObjectSpec(
        {
            **_COMMON,
            **_INPUT_OUTPUT,
            **_TRANSITION,
            **_ASSIGN,
            **_RESULT,
            **_ERRORS,
            "Resource": Field("resource", required=True),
            "Parameters": Field("template", language=_P),
            "Arguments": Field("template", language=_A),
            "Credentials": Field("template"),
            "TimeoutSeconds": Field("integer", expr=True, minimum=1, maximum=MAX_SECONDS),
            "TimeoutSecondsPath": Field("path", language=_P),
            "HeartbeatSeconds": Field("integer", expr=True, minimum=1, maximum=MAX_SECONDS),
            "HeartbeatSecondsPath": Field("path", language=_P),
        },
        # Spec: "A Task State MUST NOT include both "TimeoutSeconds" and "TimeoutSecondsPath""
        # (likewise HeartbeatSeconds); both "MUST be positive integers".
        at_most_one=(
            ("TimeoutSeconds", "TimeoutSecondsPath"),
            ("HeartbeatSeconds", "HeartbeatSecondsPath"),
        ),
        exactly_one=(NEXT_OR_END,),
    ),
    "Choice": ObjectSpec(
        {
            **_COMMON,
            **_INPUT_OUTPUT,
            **_ASSIGN,
            # Spec: "A Choice state MUST have a "Choices" field whose value is a non-empty
            # array"; it "MUST NOT be an End state" and has no Next (rules carry it).
            "Choices": Field("choice_rules", required=True),
            "Default": _STR,
        }
    ),
    "Wait": ObjectSpec(
        {
            **_COMMON,
            **_INPUT_OUTPUT,
            **_TRANSITION,
            **_ASSIGN,
            "Seconds": Field("integer", expr=True, minimum=0, maximum=MAX_SECONDS),
            "SecondsPath": Field("path", language=_P),
            "Timestamp": Field("timestamp", expr=True),
            "TimestampPath": Field("path", language=_P),
        },
        # Spec: "A Wait state MUST contain exactly one of "Seconds", "SecondsPath",
        # "Timestamp", or "TimestampPath"."
        exactly_one=(NEXT_OR_END, ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")),
    ),
    "Succeed": ObjectSpec({**_COMMON, **_INPUT_OUTPUT}),
    "Fail": ObjectSpec(
        {
            **_COMMON,
            "Error": Field("string", expr=True),
            # "You can also specify ErrorPath using an intrinsic function that returns a
            # string" (Fail state page; likewise CausePath).
            "ErrorPath": Field("path_or_intrinsic", language=_P),
            "Cause": Field("string", expr=True),
            "CausePath": Field("path_or_intrinsic", language=_P),
        },
        # Spec: "A Fail State MUST NOT have both "Error" and "ErrorPath"" (likewise Cause);
        # it "MUST NOT have Next or End" and takes no InputPath/OutputPath on AWS.
        at_most_one=(("Error", "ErrorPath"), ("Cause", "CausePath")),
    ),
    "Parallel": ObjectSpec(
        {
            **_COMMON,
            **_INPUT_OUTPUT,
            **_TRANSITION,
            **_ASSIGN,
            **_RESULT,
            **_ERRORS,
            "Branches": Field("branches", required=True),
            "Parameters": Field("template", language=_P),
            "Arguments": Field("template", language=_A),
        },
        exactly_one=(NEXT_OR_END,),
    ),
    "Map": ObjectSpec(
        {
            **_COMMON,
            **_INPUT_OUTPUT,
            **_TRANSITION,
            **_ASSIGN,
            **_RESULT,
            **_ERRORS,
            "ItemProcessor": Field("processor"),
            "Iterator": Field("processor"),
            "ItemsPath": Field("node_path", language=_P),
            "Items": Field("items", language=_A),
            "ItemSelector": Field("template"),
            "Parameters": Field("template", language=_P),
            "ItemReader": Field("object"),
            "ItemBatcher": Field("object"),
            "ResultWriter": Field("object"),
            # "MaxConcurrency ... MUST be a non-negative integer" (0 = no limit).
            "MaxConcurrency": Field("integer", expr=True, minimum=0),
            "MaxConcurrencyPath": Field("path", language=_P),
            # "ToleratedFailurePercentage ... MUST be a number between zero and 100".
            "ToleratedFailurePercentage": Field("number", expr=True, minimum=0, maximum=100),
            "ToleratedFailurePercentagePath": Field("path", language=_P),
            "ToleratedFailureCount": Field("integer", expr=True, minimum=0),
            "ToleratedFailureCountPath": Field("path", language=_P),
            "Label": _STR,
        },
        at_most_one=(
            ("ItemSelector", "Parameters"),
            ("MaxConcurrency", "MaxConcurrencyPath"),
            ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
            ("ToleratedFailureCount", "ToleratedFailureCountPath"),
        ),
        exactly_one=(NEXT_OR_END, ("ItemProcessor", "Iterator")),
    ),
}

STATE_TYPES: tuple[str, ...] = tuple(STATE_SPECS)

TERMINAL_TYPES = frozenset({"Succeed", "Fail"})
"""States that end a (sub-)workflow without an ``End`` field."""

TOP_LEVEL = ObjectSpec(
    {
        "Comment": _STR,
        "StartAt": Field("string", required=True),
        "States": Field("states", required=True),
        "Version": Field("string", choices=("1.0",)),
        "TimeoutSeconds": Field("integer", minimum=0, maximum=MAX_SECONDS),
        "QueryLanguage": Field("string", choices=(JSONPATH, JSONATA)),
    }
)

BRANCH = ObjectSpec(
    {
        "Comment": _STR,
        "StartAt": Field("string", required=True),
        "States": Field("states", required=True),
    }
)
"""A Parallel branch. It takes no QueryLanguage: its states inherit the machine's."""

ITEM_PROCESSOR = ObjectSpec(
    {
        "Comment": _STR,
        "StartAt": Field("string", required=True),
        "States": Field("states", required=True),
        "ProcessorConfig": Field("processor_config"),
    }
)
"""A Map ItemProcessor (or the older Iterator). AWS: "Field 'QueryLanguage' is not supported"."""

PROCESSOR_CONFIG = ObjectSpec(
    {
        "Mode": Field("string", choices=("INLINE", "DISTRIBUTED")),
        "ExecutionType": Field("string", choices=("STANDARD", "EXPRESS")),
    }
)

RETRIER = ObjectSpec(
    # Spec: "IntervalSeconds ... MUST be a positive integer", "MaxAttempts ... MUST be a
    # non-negative integer", "BackoffRate ... MUST be greater than or equal to 1.0",
    # "MaxDelaySeconds ... MUST be a positive integer", "JitterStrategy ... FULL or NONE".
    {
        "ErrorEquals": Field("error_names", required=True),
        "IntervalSeconds": Field("integer", minimum=1, maximum=MAX_SECONDS),
        "MaxAttempts": Field("integer", minimum=0, maximum=MAX_SECONDS),
        "BackoffRate": Field("number", minimum=1.0),
        "MaxDelaySeconds": Field("integer", minimum=1, maximum=MAX_DELAY_SECONDS),
        "JitterStrategy": Field("string", choices=("FULL", "NONE")),
        "Comment": _STR,
    }
)

CATCHER = ObjectSpec(
    # Spec: "Each Catcher MUST contain a field named "ErrorEquals" ... and a field named
    # "Next" whose value MUST be a string exactly matching a State Name."
    {
        "ErrorEquals": Field("error_names", required=True),
        "Next": Field("string", required=True),
        "ResultPath": Field("reference_path", language=_P, nullable=True),
        "Output": Field("template", language=_A),
        "Assign": Field("object"),
        "Comment": _STR,
    }
)

# Choice rules. The operand kind of each comparison operator: a ``...Path`` operator takes a
# path; the others a literal of their type.
OperandKind = Literal["string", "number", "boolean", "timestamp", "path", "true_false"]

COMPARISON_OPERATORS: dict[str, OperandKind] = {}
for _type, _operand in (
    ("String", "string"),
    ("Numeric", "number"),
    ("Timestamp", "timestamp"),
):
    for _op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"):
        COMPARISON_OPERATORS[f"{_type}{_op}"] = _operand  # type: ignore[assignment]
        COMPARISON_OPERATORS[f"{_type}{_op}Path"] = "path"
COMPARISON_OPERATORS["BooleanEquals"] = "boolean"
COMPARISON_OPERATORS["BooleanEqualsPath"] = "path"
COMPARISON_OPERATORS["StringMatches"] = "string"
for _op in ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"):
    COMPARISON_OPERATORS[_op] = "true_false"

RULE_SELECTORS = ("And", "Or", "Not", "Variable", "Condition")
"""A Choice rule has exactly one of these (AWS: "The object must have only one of ...")."""

_RULE_BODY: dict[str, Field] = {
    "Comment": _STR,
    "And": Field("nested_rules", language=_P),
    "Or": Field("nested_rules", language=_P),
    "Not": Field("nested_rule", language=_P),
    "Variable": Field("path", language=_P),
    "Condition": Field("condition", language=_A),
    # Operands are checked per operator by the validator (COMPARISON_OPERATORS).
    **{op: Field("template", language=_P) for op in COMPARISON_OPERATORS},
}

CHOICE_RULE = ObjectSpec(
    {
        **_RULE_BODY,
        "Next": Field("string", required=True),
        "Assign": Field("object"),
        "Output": Field("template", language=_A),
    }
)
"""A top-level Choice rule: it must name its ``Next`` state."""

NESTED_RULE = ObjectSpec(_RULE_BODY)
"""A rule inside And / Or / Not: AWS: "Field 'Next' is not supported"."""

JSONPATH_ONLY_STATE_FIELDS = frozenset(
    name
    for spec in STATE_SPECS.values()
    for name, field in spec.fields.items()
    if field.language == JSONPATH
)
JSONATA_ONLY_STATE_FIELDS = frozenset(
    name
    for spec in STATE_SPECS.values()
    for name, field in spec.fields.items()
    if field.language == JSONATA
)
