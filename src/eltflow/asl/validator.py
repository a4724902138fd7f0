"""Validate an Amazon States Language definition the way AWS's ValidateStateMachineDefinition does.

:func:`validate` never stops at the first problem: it walks the whole definition, driven by the
field table in :mod:`eltflow.asl.fields`, and returns one :class:`Diagnostic` per problem, each
located by the JSON pointer of the offending object or field (``/States/Load/Retry/0/
IntervalSeconds``) and carrying AWS's code (``SCHEMA_VALIDATION_FAILED``,
``MISSING_TRANSITION_TARGET``, ``MISSING_END_STATE``, ``DUPLICATE_STATE_NAME``...) and, where
AWS's wording is known, AWS's message ("Field 'X' is not supported", "These fields are
required: [Next]", "Missing 'Next' target: X", "State \"X\" is not reachable."...).

Scopes: the top level, every Parallel branch and every Map ItemProcessor are validated as their
own state machines ("Next can't jump out of a branch"), while state names must be unique across
the whole definition.

Locations are RFC 6901 JSON pointers (``/States/C/Choices/0/Next``) where AWS writes array
indexes in brackets (``/States/C/Choices[0]/Next``); AWS gives MISSING_END_STATE no location,
here it is the scope's pointer (``""`` for the top level).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from eltflow.asl import fields as F
from eltflow.asl.intrinsics import check_syntax
from eltflow.asl.jsonpath import parse_path
from eltflow.asl.model import JSONATA, JSONPATH, QueryLanguage
from eltflow.errors import Diagnostic

SCHEMA = "SCHEMA_VALIDATION_FAILED"
MISSING_TARGET = "MISSING_TRANSITION_TARGET"
MISSING_END = "MISSING_END_STATE"
DUPLICATE_NAME = "DUPLICATE_STATE_NAME"
INVALID_NAME = "INVALID_STATE_NAME"
INVALID_JSON = "INVALID_JSON_DESCRIPTION"
MISSING_DESCRIPTION = "MISSING_DESCRIPTION"
INVALID_RESOURCE = "INVALID_RESOURCE"
RESERVED_VARIABLE = "RESERVED_VARIABLE_NAME"
INVALID_VARIABLE = "INVALID_VARIABLE_NAME"
INVALID_LABEL = "INVALID_LABEL_NAME"
INVALID_JSONATA = "INVALID_JSONATA_EXPRESSION"
TOO_DEEP = "TOO_DEEPLY_NESTED"
UNSUPPORTED_JSONATA = "UNSUPPORTED_JSONATA_EXPRESSION"
DUPLICATE_LABEL = "DUPLICATE_LABEL_NAME"
# WARNING: a string that looks like a path in a template field whose name lacks ``.$``, so it
# is passed on as the literal text (the usual slip: "Payload": "$.x"). The code is the one the
# issue names from AWS's console; the message wording is ours (unverified).
NO_DOLLAR = "NO_DOLLAR"

ERROR = "ERROR"
WARNING = "WARNING"
SEVERITIES = (ERROR, WARNING)
MAX_RESULTS = 100

# A Map Label "can be up to 40 characters long" and can't contain whitespace, brackets,
# wildcards, special characters or control characters; it is unique within the definition.
_MAX_LABEL_LENGTH = 40
_LABEL_FORBIDDEN = frozenset(' <>{}[]?*"#%\\^|~`$&,;:/')


class _JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers keys given more than once (``json`` keeps the last).

    A key repeated inside ``States`` is AWS's DUPLICATE_STATE_NAME.
    """

    duplicates: tuple[str, ...] = ()


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = _JsonObject(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated: list[str] = []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        obj.duplicates = tuple(repeated)
    return obj


def load(definition: str | Mapping[str, Any]) -> tuple[Any, list[Diagnostic]]:
    """Turn JSON text (or an already-decoded mapping) into a value, or say why not.

    JSON syntax errors become one ``INVALID_JSON_DESCRIPTION`` diagnostic naming the line and
    column; an empty text is AWS's ``MISSING_DESCRIPTION``; a definition over 1 MiB is refused.
    """
    if not isinstance(definition, str):  # already decoded (normally a Mapping)
        try:
            size = len(json.dumps(definition, ensure_ascii=False, default=str).encode())
        except (RecursionError, ValueError):  # ValueError: a circular reference
            return None, [_diag("", TOO_DEEP, "The states are too deeply nested.")]
        value: Any = definition
    else:
        if not definition.strip():
            return None, [_diag("", MISSING_DESCRIPTION, "Received a null or empty definition")]
        size = len(definition.encode())
        try:
            value = json.loads(definition, object_pairs_hook=_pairs_hook)
        except json.JSONDecodeError as exc:
            message = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
            return None, [_diag("", INVALID_JSON, message)]
        except RecursionError:
            return None, [_diag("", TOO_DEEP, "The states are too deeply nested.")]
    if size > F.MAX_DEFINITION_BYTES:
        # AWS's API shape caps ``definition`` at 1,048,576.
        message = f"Definition is {size} bytes; the maximum is {F.MAX_DEFINITION_BYTES}"
        return None, [_diag("", SCHEMA, message)]
    return value, []


def validate(definition: str | Mapping[str, Any]) -> list[Diagnostic]:
    """Return every problem AWS would report for ``definition`` (empty when it is valid).

    Errors only: what stops AWS from creating the machine. :func:`diagnose` adds warnings.
    """
    return [d for d in diagnose(definition) if d.severity == ERROR]


def diagnose(definition: str | Mapping[str, Any]) -> list[Diagnostic]:
    """Every ERROR and WARNING diagnostic for ``definition``, errors first."""
    value, diagnostics = load(definition)
    if diagnostics:
        return diagnostics
    return _run(value)


def check(value: Any) -> list[Diagnostic]:
    """Validate an already-decoded definition (errors only)."""
    return [d for d in _run(value) if d.severity == ERROR]


def _run(value: Any) -> list[Diagnostic]:
    v = _Validator()
    if not isinstance(value, Mapping):
        v.add("", SCHEMA, "Expected value of type Object")
        return v.diagnostics
    top_ql = value.get("QueryLanguage", JSONPATH)
    v.top_ql = top_ql if top_ql in (JSONPATH, JSONATA) else JSONPATH
    try:
        v.machine(value, "", F.TOP_LEVEL)
    except RecursionError:
        # Nesting deeper than Python's stack: AWS refuses such definitions too.
        return [_diag("", TOO_DEEP, "The states are too deeply nested.")]
    return v.diagnostics + v.warnings


@dataclass(frozen=True, slots=True)
class Report:
    """ValidateStateMachineDefinition's answer: ``result`` is FAIL when any ERROR was found
    (whatever ``severity`` lets through); warnings alone leave it OK."""

    result: str
    diagnostics: tuple[Diagnostic, ...]
    truncated: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "diagnostics": [
                {
                    "severity": d.severity,
                    "code": d.code,
                    "message": d.message,
                    "location": d.path or "/",
                }
                for d in self.diagnostics
            ],
            "truncated": self.truncated,
        }


def report(
    diagnostics: list[Diagnostic], *, severity: str = ERROR, max_results: int = MAX_RESULTS
) -> Report:
    """Shape ``diagnostics`` (from :func:`diagnose`) as AWS answers: ``severity`` ERROR
    returns errors only, WARNING both; ``max_results`` 0 means the default and maximum, 100."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    if max_results < 0 or max_results > MAX_RESULTS:
        raise ValueError(f"maxResults must be between 0 and {MAX_RESULTS}, not {max_results}")
    limit = max_results or MAX_RESULTS
    shown = [d for d in diagnostics if severity == WARNING or d.severity == ERROR]
    failed = any(d.severity == ERROR for d in diagnostics)
    return Report(
        result="FAIL" if failed else "OK",
        diagnostics=tuple(shown[:limit]),
        truncated=len(shown) > limit,
    )


def _closest(name: str, states: Mapping[str, Any]) -> str | None:
    """The state name ``name`` most likely misspells, if one is close enough."""
    close = difflib.get_close_matches(name, [str(s) for s in states], n=1, cutoff=0.75)
    if not close:
        # Case slips ("loadfact" for "LoadFact") score low on the raw text.
        lowered = {str(s).lower(): str(s) for s in states}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return close[0] if close else None


def _diag(path: str, code: str, message: str) -> Diagnostic:
    return Diagnostic(path=path, code=code, message=message)


def _ptr(path: str, key: str | int) -> str:
    """Append one JSON-pointer token (RFC 6901 escapes ``~`` and ``/``)."""
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"{path}/{token}"


def _present(obj: Mapping[str, Any], name: str) -> bool:
    # ``"End": false`` does not count as choosing End.
    return name in obj and obj[name] is not False


def _expression(value: Any) -> str | None:
    """The inside of a ``{% ... %}`` string, else None."""
    if isinstance(value, str) and len(value) >= 4 and value[:2] == "{%" and value[-2:] == "%}":
        return value[2:-2]
    return None


@dataclass(frozen=True, slots=True)
class _Jsonata:
    """What the validator needs to know about one JSONata expression."""

    error: str | None = None
    top_level: tuple[str, ...] = ()  # names read from the (absent) context item
    states_fields: frozenset[str] = frozenset()  # X of every ``$states.X`` it reads


@lru_cache(maxsize=1024)
def _jsonata_problems(expression: str) -> _Jsonata:
    import jsonata  # lazy: keeps ``import eltflow`` fast

    try:
        ast = jsonata.Jsonata(expression).ast
    except Exception as exc:  # the library raises JException and, on some inputs, others
        return _Jsonata(error=str(exc) or type(exc).__name__)
    refs: list[str] = []
    _top_level_references(ast, refs)
    fields = set()
    for node in _ast_nodes(ast):
        steps = getattr(node, "steps", None) if getattr(node, "type", None) == "path" else None
        if steps and len(steps) > 1 and steps[0].type == "variable" and steps[0].value == "states":
            fields.add(str(steps[1].value))
    return _Jsonata(top_level=tuple(dict.fromkeys(refs)), states_fields=frozenset(fields))


_AST_CHILDREN = [
    "steps",
    "stages",
    "lhs",
    "rhs",
    "arguments",
    "procedure",
    "body",
    "condition",
    "then",
    "_else",
    "expressions",
    "expression",
    "expr",
    "predicate",
    "group",
    "terms",
    "update",
    "delete",
    "pattern",
]


def _ast_nodes(node: Any) -> Iterator[Any]:
    """Every node of a jsonata-python AST (children are attributes, lists or pair lists)."""
    if isinstance(node, list | tuple):
        for item in node:
            yield from _ast_nodes(item)
        return
    if not hasattr(node, "type"):
        return
    yield node
    for name in _AST_CHILDREN:
        child = getattr(node, name, None)
        if child is not None:
            yield from _ast_nodes(child)


def _top_level_references(node: Any, refs: list[str]) -> None:
    """Collect names an expression reads from the (absent) context item at its top level.

    "A JSONata expression MUST NOT reference "$" or unqualified field names at the top level,
    but MAY reference "$" or unqualified field names nested inside an expression": Step
    Functions gives the expression no context item (input is ``$states.input``). Walks only
    the node kinds that keep the root context (operators, conditions, blocks, function
    arguments, array constructors) and stops at anything else, so it never reports a name that
    is really relative to a nested context.
    """
    kind = getattr(node, "type", None)
    if kind == "path":
        steps = getattr(node, "steps", None) or []
        if steps:
            _top_level_references(steps[0], refs)
    elif kind == "name":
        refs.append(str(node.value))
    elif kind == "variable" and node.value in ("", "$"):
        refs.append("$" if node.value == "" else "$$")
    elif kind in ("binary", "apply"):
        _top_level_references(node.lhs, refs)
        _top_level_references(node.rhs, refs)
    elif kind == "condition":
        for part in (node.condition, node.then, node._else):
            _top_level_references(part, refs)
    elif kind == "bind":
        _top_level_references(node.rhs, refs)
    elif kind == "block" or (kind == "unary" and node.value == "["):
        for part in node.expressions or []:
            _top_level_references(part, refs)
    elif kind == "unary" and node.value == "-":
        _top_level_references(node.expression, refs)
    elif kind in ("function", "partial"):
        for part in node.arguments or []:
            _top_level_references(part, refs)


# ---------------------------------------------------------------------------------------------
# Path syntax: the evaluator's own parser decides, so what validates also runs.


def path_error(path: str, *, reference: bool = False, any_root: bool = False) -> str | None:
    """Why ``path`` is not a valid ASL path (None when it is).

    "A Path is a string, beginning with "$", used to identify components with a JSON text"; a
    Reference Path "is a Path with syntax limited in such a way that it can only identify a
    single node": only ``.name``, ``['name']`` and ``[index]`` steps, from the state input
    (not the ``$$`` context object or a ``$variable``, unless ``any_root``).
    """
    if not path.startswith("$"):
        if reference:
            return "Value is not a Reference Path: Reference path didn't start with '$'"
        return "Value must be a valid JSONPath."
    try:
        parsed = parse_path(path)
    except ValueError as exc:
        return f"Value must be a valid JSONPath. ({exc})"
    if reference and ((parsed.root != "$" and not any_root) or not parsed.is_reference):
        return "Value is not a Reference Path"
    return None


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def timestamp_ok(value: str) -> bool:
    """ASL timestamps "MUST conform to RFC3339 profile ISO 8601", with an uppercase T and Z."""
    if not _TIMESTAMP.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


_RESOURCE = re.compile(r"arn:[^:\s]+:[^:\s]+:[^:\s]*:[^:\s]*:\S+")

_TYPE_NAMES = {
    "string": "String",
    "boolean": "Boolean",
    "integer": "Integer",
    "number": "Number",
    "object": "Object",
}


# ---------------------------------------------------------------------------------------------


@dataclass
class _Validator:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    top_ql: QueryLanguage = JSONPATH
    state_names: dict[str, str] = field(default_factory=dict)  # name -> first path
    labels: set[str] = field(default_factory=set)
    # Where the payload being checked sits, for the JSONata $states fields it may read:
    # "result" (a Task/Parallel/Map top-level Output or Assign), "catch" (a Catcher's Output or
    # Assign) or "other".
    role: str = "other"

    def add(self, path: str, code: str, message: str) -> None:
        self.diagnostics.append(_diag(path, code, message))

    # -- objects driven by the field table ---------------------------------------------------

    def obj(self, value: Any, path: str, spec: F.ObjectSpec, ql: QueryLanguage) -> bool:
        """Check ``value`` against ``spec``; False when it is not even an object."""
        if not isinstance(value, Mapping):
            self.add(path, SCHEMA, "Expected value of type Object")
            return False
        missing = [n for n, f in spec.fields.items() if f.required and n not in value]
        if missing:
            self.add(path, SCHEMA, f"These fields are required: [{', '.join(missing)}]")
        for name, item in value.items():
            fspec = spec.fields.get(name)
            where = _ptr(path, name)
            if fspec is None:
                self.add(where, SCHEMA, f"Field '{name}' is not supported")
            elif fspec.language is not None and fspec.language != ql:
                self.add(
                    where,
                    SCHEMA,
                    f"The QueryLanguage is set to '{ql}', but field '{name}' is only supported "
                    f"for the '{fspec.language}' QueryLanguage",
                )
            else:
                previous, self.role = self.role, _role(spec, name)
                self.value(item, where, name, fspec, ql)
                self.role = previous
        for group in spec.at_most_one + spec.exactly_one:
            count = sum(_present(value, n) for n in group)
            if count > 1:
                names = ", ".join(group)
                message = f"There should only be one of the following fields: [{names}]"
                self.add(path, SCHEMA, message)
            elif count == 0 and group in spec.exactly_one:
                names = ", ".join(group)
                message = f"This object should have only one of the following fields: [{names}]"
                self.add(path, SCHEMA, message)
        return True

    def value(self, item: Any, path: str, name: str, f: F.Field, ql: QueryLanguage) -> None:
        if item is None and f.nullable:
            return
        # In JSONata states a number field can only hold a string as an expression; a string
        # field may also hold a literal.
        if (
            f.expr
            and ql == JSONATA
            and isinstance(item, str)
            and (f.kind not in ("string", "timestamp") or item.startswith("{%"))
        ):
            self.expression(item, path, require=True)
            return
        check = _KIND_CHECKS[f.kind]
        check(self, item, path, f, ql)

    # -- scopes ------------------------------------------------------------------------------

    def machine(self, value: Any, path: str, spec: F.ObjectSpec) -> None:
        """A whole definition, a Parallel branch or a Map ItemProcessor: its own scope."""
        if not self.obj(value, path, spec, self.top_ql):
            return
        states = value.get("States")
        if not isinstance(states, Mapping):
            return
        start = value.get("StartAt")
        if isinstance(start, str) and start not in states:
            self.add(_ptr(path, "StartAt"), MISSING_TARGET, f"Missing 'StartAt' target: {start}")
        self.graph(states, _ptr(path, "States"), start if isinstance(start, str) else None)

    def graph(self, states: Mapping[str, Any], path: str, start: str | None) -> None:
        """Transition targets exist, every state is reachable, and some state ends the scope."""
        edges: dict[str, list[str]] = {}
        terminal = False
        for name, state in states.items():
            if not isinstance(state, Mapping):
                continue
            where = _ptr(path, name)
            targets: list[tuple[str, str]] = []  # (target, pointer)
            if isinstance(state.get("Next"), str):
                targets.append((state["Next"], _ptr(where, "Next")))
            if isinstance(state.get("Default"), str):
                targets.append((state["Default"], _ptr(where, "Default")))
            for key in ("Choices", "Catch"):
                items = state.get(key)
                if isinstance(items, list):
                    for i, rule in enumerate(items):
                        if isinstance(rule, Mapping) and isinstance(rule.get("Next"), str):
                            nxt = _ptr(_ptr(_ptr(where, key), i), "Next")
                            targets.append((rule["Next"], nxt))
            edges[name] = []
            for target, pointer in targets:
                if target in states:
                    edges[name].append(target)
                    continue
                # AWS words every dangling target this way, a Choice's Default included.
                meant = _closest(target, states)
                hint = f"did you mean {meant!r}?" if meant else ""
                self.diagnostics.append(
                    Diagnostic(
                        path=pointer,
                        code=MISSING_TARGET,
                        message=f"Missing 'Next' target: {target}",
                        hint=hint,
                    )
                )
                if meant:
                    # Walk on as if the typo were fixed: the states behind it are not reported
                    # as unreachable, so one typo gives one error instead of a cascade.
                    edges[name].append(meant)
            stype = state.get("Type")  # any JSON: a list or object is unhashable
            if state.get("End") is True or (isinstance(stype, str) and stype in F.TERMINAL_TYPES):
                terminal = True
        if not terminal and states:
            # AWS reports this alone: it suppresses the unreachable-state walk.
            self.add(path.rsplit("/", 1)[0], MISSING_END, "Workflow has no terminal state")
            return
        if start is None or start not in states:
            return
        seen, todo = {start}, [start]
        while todo:
            for target in edges.get(todo.pop(), ()):
                if target in states and target not in seen:
                    seen.add(target)
                    todo.append(target)
        for name in states:
            if name not in seen:
                self.add(_ptr(path, name), MISSING_TARGET, f'State "{name}" is not reachable.')

    def states(self, value: Any, path: str) -> None:
        """The ``States`` object of one scope: non-empty, no name given twice."""
        if not isinstance(value, Mapping):
            self.add(path, SCHEMA, "Expected value of type Object")
            return
        if not value:
            self.add(path, SCHEMA, "Value cannot be empty")
        for name in getattr(value, "duplicates", ()):
            self.add(_ptr(path, name), DUPLICATE_NAME, f"Duplicate State name: '{name}'")
        for name, state in value.items():
            self.state(name, state, _ptr(path, name))

    def state(self, name: str, state: Any, path: str) -> None:
        """One state: its name, then its fields by its Type's spec."""
        # "State names MUST be unique within the scope of the whole state machine."
        if name in self.state_names:
            self.add(path, DUPLICATE_NAME, f"Duplicate State name: '{name}'")
        else:
            self.state_names[name] = path
        # Names are 1-80 characters.
        if not name or len(name) > F.MAX_STATE_NAME_LENGTH:
            shown = name if len(name) <= 40 else f"{name[:40]}..."
            message = (
                f"State name '{shown}' ({len(name)} characters) must be 1 to "
                f"{F.MAX_STATE_NAME_LENGTH} characters long"
            )
            self.add(path, INVALID_NAME, message)
        if not isinstance(state, Mapping):
            self.add(path, SCHEMA, "Expected value of type Object")
            return
        stype = state.get("Type")
        spec = F.STATE_SPECS.get(stype) if isinstance(stype, str) else None
        if spec is None:
            types = ", ".join(F.STATE_TYPES)
            if "Type" not in state:
                self.add(path, SCHEMA, "These fields are required: [Type]")
            else:
                message = f"Value should be one of the following: [{types}]"
                self.add(_ptr(path, "Type"), SCHEMA, message)
            return
        ql = self.state_language(state, path)
        self.obj(state, path, spec, ql)
        if "Assign" in state and "Assign" in spec.fields:
            previous, self.role = self.role, _role(spec, "Assign")
            self.assign(state["Assign"], _ptr(path, "Assign"), ql)
            self.role = previous
        if stype == "Map" and isinstance(state.get("Label"), str):
            self.label(state["Label"], _ptr(path, "Label"))
        heartbeat, timeout = state.get("HeartbeatSeconds"), state.get("TimeoutSeconds")
        if _is_number(heartbeat) and _is_number(timeout) and heartbeat >= timeout:  # type: ignore[operator]
            # "If provided, the HeartbeatSeconds interval MUST be smaller than TimeoutSeconds."
            self.add(
                _ptr(path, "HeartbeatSeconds"),
                SCHEMA,
                "HeartbeatSeconds must be smaller than TimeoutSeconds",
            )

    def label(self, label: str, path: str) -> None:
        """A Map Run label: at most 40 characters, no special characters, unique."""
        bad = [c for c in label if c in _LABEL_FORBIDDEN or not c.isprintable() or c.isspace()]
        if not label or len(label) > _MAX_LABEL_LENGTH or bad:
            self.add(
                path,
                INVALID_LABEL,
                f"Label '{label}' is invalid: use up to 40 characters "
                "without whitespace, brackets, wildcards or special characters",
            )
        if label in self.labels:
            self.add(path, DUPLICATE_LABEL, f"Duplicate Label: '{label}'")
        self.labels.add(label)

    def state_language(self, state: Mapping[str, Any], path: str) -> QueryLanguage:
        """Resolve the state's QueryLanguage.

        "A state cannot declare JSONPath when the whole machine is JSONata"; states inside
        branches and item processors inherit the machine's top-level language.
        """
        own = state.get("QueryLanguage")
        if own == JSONPATH and self.top_ql == JSONATA:
            self.add(
                _ptr(path, "QueryLanguage"),
                SCHEMA,
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            )
            return JSONATA
        if own in (JSONPATH, JSONATA):
            return own  # type: ignore[no-any-return]
        return self.top_ql

    # -- payloads ----------------------------------------------------------------------------

    def expression(self, text: str, path: str, *, require: bool) -> None:
        """A ``{% %}`` string must be a JSONata expression that compiles."""
        inner = _expression(text)
        if inner is None:
            if text.startswith("{%") or require:
                self.add(path, SCHEMA, "JSONata string must start with {% and end with %}")
            return
        found = _jsonata_problems(inner)
        if found.error is not None:
            self.add(path, INVALID_JSONATA, found.error)
        for name in found.top_level:
            message = f"Reference to '{name}' at the top level is not supported."
            self.add(path, UNSUPPORTED_JSONATA, message)
        # "$states.result ... can be referenced in the state's top-level Output and Assign";
        # "$states.errorOutput ... in a Catcher's Output and Assign fields".
        for name, role in (("result", "result"), ("errorOutput", "catch")):
            if name in found.states_fields and self.role != role:
                message = f"Field '$states.{name}' does not exist."
                self.add(path, UNSUPPORTED_JSONATA, message)

    def template(self, value: Any, path: str, ql: QueryLanguage) -> None:
        """Walk a payload template.

        JSONPath: "If a field's name ends with '.$', its value MUST be a Path or an intrinsic
        function". JSONata: every ``{% %}`` string must compile.
        """
        for where, key, item in _walk(value, path):
            if ql == JSONATA:
                if isinstance(item, str):
                    self.expression(item, where, require=False)
            elif key is not None and key.endswith(".$"):
                self.dollar_value(item, where, key)
            elif key is not None and isinstance(item, str) and _looks_dynamic(item):
                message = (
                    f"The value of field '{key}' looks like a JSONPath or an intrinsic "
                    f"function, but the field name does not end with '.$', so it is passed as "
                    f"the literal string {item!r}"
                )
                self.warnings.append(
                    Diagnostic(path=where, code=NO_DOLLAR, message=message, severity=WARNING)
                )

    def dollar_value(self, item: Any, path: str, key: str) -> None:
        problem: str | None = "not a string"
        if isinstance(item, str):
            problem = check_syntax(item) if item.startswith("States.") else path_error(item)
        if problem is not None:
            message = (
                f"The value for the field '{key}' must be a valid JSONPath or a valid "
                "intrinsic function call"
            )
            self.add(path, SCHEMA, message)

    def assign(self, value: Any, path: str, ql: QueryLanguage) -> None:
        """Variable names in ``Assign``; ``$states`` is reserved."""
        if not isinstance(value, Mapping):
            return
        for key in value:
            name = key[:-2] if ql == JSONPATH and key.endswith(".$") else key
            where = _ptr(path, key)
            if name == "states":
                self.add(where, RESERVED_VARIABLE, "Cannot assign to reserved variable '$states'.")
            elif not name.isidentifier() or name.startswith("_") or len(name) > 80:
                self.add(
                    where,
                    INVALID_VARIABLE,
                    f"Invalid variable name '{name}': the variable name contains invalid "
                    "characters.",
                )
        self.template(value, path, ql)

    # -- Choice rules ------------------------------------------------------------------------

    def rule(self, rule: Any, path: str, spec: F.ObjectSpec, ql: QueryLanguage) -> None:
        if not self.obj(rule, path, spec, ql):
            return
        selectors = [k for k in F.RULE_SELECTORS if k in rule]
        operators = [k for k in rule if k in F.COMPARISON_OPERATORS]
        if len(selectors) != 1:
            self.add(
                path,
                SCHEMA,
                "The object must have only one of the following fields, "
                f"[{', '.join(F.RULE_SELECTORS)}]",
            )
        if "Variable" in rule:
            if len(operators) != 1:
                self.add(
                    path,
                    SCHEMA,
                    "There should only be one of the following comparison operators: "
                    f"{operators or 'none given'}",
                )
        elif operators and ql == JSONPATH:
            self.add(path, SCHEMA, "These fields are required: [Variable]")
        if ql == JSONPATH:
            for op in operators:
                self.operand(rule[op], _ptr(path, op), op)
        if "Assign" in rule and "Assign" in spec.fields:
            self.assign(rule["Assign"], _ptr(path, "Assign"), ql)

    def operand(self, value: Any, path: str, op: str) -> None:
        kind = F.COMPARISON_OPERATORS[op]
        if kind == "path":
            if not isinstance(value, str) or path_error(value) is not None:
                self.add(path, SCHEMA, "Value must be a valid JSONPath.")
        elif kind == "timestamp":
            if not isinstance(value, str) or not timestamp_ok(value):
                self.add(path, SCHEMA, "Value must be a valid RFC 3339 timestamp")
        elif kind == "number":
            if not _is_number(value):
                self.add(path, SCHEMA, "Expected value of type Number")
        elif kind == "string":
            if not isinstance(value, str):
                self.add(path, SCHEMA, "Expected value of type String")
        elif not isinstance(value, bool):
            self.add(path, SCHEMA, "Expected value of type Boolean")


_RESULT_SPECS = (F.STATE_SPECS["Task"], F.STATE_SPECS["Parallel"], F.STATE_SPECS["Map"])


def _role(spec: F.ObjectSpec, name: str) -> str:
    """The role (see ``_Validator.role``) of field ``name`` of an object of kind ``spec``."""
    if name not in ("Output", "Assign"):
        return "other"
    if spec is F.CATCHER:
        return "catch"
    return "result" if any(spec is s for s in _RESULT_SPECS) else "other"


def _walk(value: Any, path: str, key: str | None = None) -> Iterator[tuple[str, str | None, Any]]:
    """Every value in a JSON tree, with its pointer and (for object members) its key."""
    yield path, key, value
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, _ptr(path, k), k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, _ptr(path, i))


_INTRINSIC_CALL = re.compile(r"States\.[A-Za-z]+\(")


def _looks_dynamic(text: str) -> bool:
    """A string a ``.$`` field would evaluate: a valid path from ``$``/``$$`` or an intrinsic
    function call. ``$`` alone and prices like ``$5`` do not count."""
    if text.startswith(("$.", "$[", "$$.")):
        return path_error(text) is None
    return _INTRINSIC_CALL.match(text) is not None and check_syntax(text) is None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# -- kind checks (one per Kind of the field table) --------------------------------------------

_Check = Callable[[_Validator, Any, str, F.Field, QueryLanguage], None]


def _scalar(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    ok = {
        "string": isinstance(item, str),
        "boolean": isinstance(item, bool),
        "integer": isinstance(item, int) and not isinstance(item, bool),
        "number": _is_number(item),
        "object": isinstance(item, Mapping),
    }[f.kind]
    if not ok:
        v.add(path, SCHEMA, f"Expected value of type {_TYPE_NAMES[f.kind]}")
        return
    if f.choices and item not in f.choices:
        v.add(path, SCHEMA, f"Value should be one of the following: [{', '.join(f.choices)}]")
    if f.minimum is not None and item < f.minimum:
        v.add(path, SCHEMA, f"Minimum value is {_num(f.minimum)}")
    if f.maximum is not None and item > f.maximum:
        v.add(path, SCHEMA, f"Maximum value is {_num(f.maximum)}")
    if f.kind == "string" and f.expr and ql == JSONATA:
        v.expression(item, path, require=False)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _path(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    if not isinstance(item, str):
        v.add(path, SCHEMA, "Expected value of type String")
        return
    reference = f.kind in ("reference_path", "node_path")
    error = path_error(item, reference=reference, any_root=f.kind == "node_path")
    if error is not None:
        v.add(path, SCHEMA, error)


def _path_or_intrinsic(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    if isinstance(item, str) and item.startswith("States."):
        problem = check_syntax(item)
        if problem is not None:
            message = f"Value must be a valid JSONPath or intrinsic function. ({problem})"
            v.add(path, SCHEMA, message)
        return
    _path(v, item, path, f, ql)


def _template(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    v.template(item, path, ql)


def _literal(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    """Any JSON value is fine: nothing inside a literal is evaluated."""


def _timestamp(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    if not isinstance(item, str) or not timestamp_ok(item):
        v.add(path, SCHEMA, "Value must be a valid RFC 3339 timestamp")


def _error_names(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    if not isinstance(item, list) or not all(isinstance(e, str) for e in item):
        v.add(path, SCHEMA, "Expected value of type Array of String")
    elif not item:
        v.add(path, SCHEMA, "Value cannot be empty")
    elif "States.ALL" in item and len(item) > 1:
        # "The reserved name "States.ALL" ... MUST appear alone in its ErrorEquals array"
        v.add(path, SCHEMA, "States.ALL must appear alone and at end of list")


def _list_of(spec: F.ObjectSpec, *, catchall_last: bool = False, nonempty: bool = False) -> _Check:
    def check(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
        if not isinstance(item, list):
            v.add(path, SCHEMA, "Expected value of type Array")
            return
        if nonempty and not item:
            v.add(path, SCHEMA, "Value cannot be empty")
        for i, entry in enumerate(item):
            where = _ptr(path, i)
            if spec is F.CHOICE_RULE or spec is F.NESTED_RULE:
                v.rule(entry, where, spec, ql)
                continue
            if not v.obj(entry, where, spec, ql):
                continue
            errors = entry.get("ErrorEquals")
            # "it MUST appear ... in the last Retrier/Catcher in the array"
            if (
                catchall_last
                and isinstance(errors, list)
                and errors == ["States.ALL"]
                and i < len(item) - 1
            ):
                v.add(
                    _ptr(where, "ErrorEquals"),
                    SCHEMA,
                    "States.ALL must appear alone and at end of list",
                )
            if "Assign" in entry:
                previous, v.role = v.role, _role(spec, "Assign")
                v.assign(entry["Assign"], _ptr(where, "Assign"), ql)
                v.role = previous

    return check


def _nested_rule(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    v.rule(item, path, F.NESTED_RULE, ql)


def _branches(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    if not isinstance(item, list):
        v.add(path, SCHEMA, "Expected value of type Array")
        return
    if not item:
        v.add(path, SCHEMA, "Value cannot be empty")
    for i, branch in enumerate(item):
        v.machine(branch, _ptr(path, i), F.BRANCH)


def _processor(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    v.machine(item, path, F.ITEM_PROCESSOR)


def _processor_config(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    if not v.obj(item, path, F.PROCESSOR_CONFIG, ql):
        return
    mode = item.get("Mode", "INLINE")
    if mode == "DISTRIBUTED" and "ExecutionType" not in item:
        v.add(path, SCHEMA, "These fields are required: [ExecutionType]")
    if mode == "INLINE" and "ExecutionType" in item:
        v.add(_ptr(path, "ExecutionType"), SCHEMA, "Field 'ExecutionType' is not supported")


def _items(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    if isinstance(item, str):
        v.expression(item, path, require=True)
    elif isinstance(item, list | Mapping):
        v.template(item, path, ql)
    else:
        v.add(path, SCHEMA, "Expected an array, an object or a JSONata expression")


def _condition(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    if isinstance(item, str):
        v.expression(item, path, require=True)
    elif not isinstance(item, bool):
        v.add(path, SCHEMA, "Expected value of type Boolean or a JSONata expression")


def _resource(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    if not isinstance(item, str):
        v.add(path, SCHEMA, "Expected value of type String")
    elif not _RESOURCE.fullmatch(item):
        v.add(path, INVALID_RESOURCE, f"Resource '{item}' is not a valid ARN")


def _states_kind(v: _Validator, item: Any, path: str, f: F.Field, ql: QueryLanguage) -> None:
    v.states(item, path)


_KIND_CHECKS: dict[str, _Check] = {
    "string": _scalar,
    "boolean": _scalar,
    "integer": _scalar,
    "number": _scalar,
    "object": _scalar,
    "path": _path,
    "reference_path": _path,
    "node_path": _path,
    "path_or_intrinsic": _path_or_intrinsic,
    "template": _template,
    "literal": _literal,
    "timestamp": _timestamp,
    "error_names": _error_names,
    "states": _states_kind,
    "retriers": _list_of(F.RETRIER, catchall_last=True),
    "catchers": _list_of(F.CATCHER, catchall_last=True),
    "choice_rules": _list_of(F.CHOICE_RULE, nonempty=True),
    "nested_rules": _list_of(F.NESTED_RULE, nonempty=True),
    "nested_rule": _nested_rule,
    "branches": _branches,
    "processor": _processor,
    "processor_config": _processor_config,
    "items": _items,
    "condition": _condition,
    "resource": _resource,
}
