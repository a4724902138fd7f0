"""Recursive-descent parsers for DynamoDB's expressions (condition, update, projection, key).

Errors carry DynamoDB's wording: ``Invalid UpdateExpression: Syntax error; token: "X", near:
"a X b"`` — the offending token with its neighbours (whitespace kept), ``<EOF>`` at the end.
Placeholders stay unresolved here; :func:`check_placeholders` then checks them against the
request's ExpressionAttributeNames/Values in DynamoDB's order (syntax first, then undefined
names/values, then unused ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from eltflow.items import errors
from eltflow.items.syntax import (
    ARITY,
    CONDITION_FUNCTIONS,
    OPERAND_FUNCTIONS,
    UPDATE_FUNCTIONS,
    Action,
    And,
    Arith,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Not,
    Operand,
    Or,
    Path,
    Update,
    Value,
)

_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<attr_name>#[A-Za-z0-9_]+)|(?P<attr_value>:[A-Za-z0-9_]+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>[0-9]+)"
    r"|(?P<op><=|>=|<>|=|<|>|\+|-)|(?P<punct>[.,()\[\]])|(?P<bad>.)",
    re.S,
)
_COMPARATORS = {"=", "<>", "<", "<=", ">", ">="}
_KEYWORDS = {"and", "or", "not", "between", "in"}


@lru_cache(maxsize=1)
def reserved_words() -> frozenset[str]:
    """DynamoDB's reserved words (a bare attribute name may not be one of them)."""
    text = resources.files("eltflow.items").joinpath("reserved_words.txt").read_text("utf-8")
    return frozenset(w.strip().upper() for w in text.split() if w.strip())


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


class _Parser:
    def __init__(self, text: str, kind: str) -> None:
        self.kind = kind
        # DynamoDB ignores surrounding whitespace (it never shows up in "near").
        self.all = [Token(m.lastgroup or "bad", m.group()) for m in _TOKEN.finditer(text.strip())]
        # positions of non-whitespace tokens in self.all
        self.idx = [i for i, t in enumerate(self.all) if t.kind != "ws"]
        self.pos = 0
        self.names: list[str] = []
        self.values: list[str] = []
        # ids of conditions that were written in parentheses: ``((x))`` is an error in DynamoDB
        self.parenthesised: set[int] = set()

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token | None:
        p = self.pos + ahead
        return self.all[self.idx[p]] if p < len(self.idx) else None

    def peek_word(self) -> str:
        t = self.peek()
        return t.text.lower() if t is not None and t.kind == "name" else ""

    def take(self) -> Token:
        t = self.peek()
        if t is None:
            raise self.error()
        self.pos += 1
        return t

    def expect(self, text: str) -> None:
        t = self.peek()
        if t is None or t.text.lower() != text:
            raise self.error()
        self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.idx)

    def error(self) -> Exception:
        """A syntax error at the current token, with DynamoDB's "near" context."""
        toks = self.all
        if self.at_end():
            token, here, at = "<EOF>", "", len(toks)
        else:
            at = self.idx[self.pos]
            token = here = toks[at].text
        parts: list[str] = []
        if at - 1 >= 0:
            if toks[at - 1].kind == "ws" and at - 2 >= 0:
                parts.append(toks[at - 2].text)
            parts.append(toks[at - 1].text)
        parts.append(here)
        if here and at + 1 < len(toks):
            parts.append(toks[at + 1].text)
            if toks[at + 1].kind == "ws" and at + 2 < len(toks):
                parts.append(toks[at + 2].text)
        return errors.syntax_error(self.kind, token, "".join(parts))

    def invalid(self, detail: str) -> Exception:
        return errors.invalid_expression(self.kind, detail)

    # -- paths and operands ----------------------------------------------------------------------
    def path(self) -> Path:
        elements: list[str | int] = [self.path_name()]
        while True:
            t = self.peek()
            if t is not None and t.text == ".":
                self.pos += 1
                elements.append(self.path_name())
            elif t is not None and t.text == "[":
                self.pos += 1
                n = self.take()
                if n.kind != "number":
                    self.pos -= 1
                    raise self.error()
                elements.append(int(n.text))
                self.expect("]")
            else:
                return Path(tuple(elements))

    def path_name(self) -> str:
        t = self.take()
        if t.kind == "attr_name":
            self.names.append(t.text)
            return t.text
        if t.kind == "name":
            if t.text.upper() in reserved_words():
                raise self.invalid(
                    f"Attribute name is a reserved keyword; reserved keyword: {t.text}"
                )
            return t.text
        self.pos -= 1
        raise self.error()

    def operand(self, allowed_functions: frozenset[str]) -> Operand:
        t = self.peek()
        if t is None:
            raise self.error()
        if t.kind == "attr_value":
            self.pos += 1
            self.values.append(t.text)
            return Value(t.text)
        nxt = self.peek(1)
        if t.kind == "name" and nxt is not None and nxt.text == "(":
            return self.call(allowed_functions)
        if t.kind in ("name", "attr_name"):
            return self.path()
        raise self.error()

    def call(self, allowed: frozenset[str]) -> Call:
        name_tok = self.take()
        name = name_tok.text
        known = CONDITION_FUNCTIONS | OPERAND_FUNCTIONS | UPDATE_FUNCTIONS
        if name not in known:
            raise self.invalid(f"Invalid function name; function: {name}")
        if name not in allowed:
            if self.kind == "UpdateExpression":
                raise self.invalid(
                    f"The function is not allowed in an update expression; function: {name}"
                )
            if name in UPDATE_FUNCTIONS:
                raise self.invalid(
                    f"The function is not allowed in a condition expression; function: {name}"
                )
            raise self.invalid(
                "The function is not allowed to be used this way in an expression; "
                f"function: {name}"
            )
        self.expect("(")
        args: list[Operand] = []
        inner = OPERAND_FUNCTIONS if name in CONDITION_FUNCTIONS | OPERAND_FUNCTIONS else allowed
        while True:
            args.append(self.operand(inner))
            t = self.take()
            if t.text == ")":
                break
            if t.text != ",":
                self.pos -= 1
                raise self.error()
        if len(args) != ARITY[name]:
            raise self.invalid(
                "Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
        if name in {
            "attribute_exists",
            "attribute_not_exists",
            "attribute_type",
            "size",
            "if_not_exists",
        } and not isinstance(args[0], Path):
            raise self.invalid(
                f"Operator or function requires a document path; operator or function: {name}"
            )
        return Call(name, tuple(args))

    # -- conditions ------------------------------------------------------------------------------
    def condition(self) -> Condition:
        left = self.conjunction()
        while self.peek_word() == "or":
            self.pos += 1
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.peek_word() == "and":
            self.pos += 1
            left = And(left, self.negation())
        return left

    def negation(self) -> Condition:
        if self.peek_word() == "not":
            self.pos += 1
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Condition:
        t = self.peek()
        if t is not None and t.text == "(":
            self.pos += 1
            inner = self.condition()
            self.expect(")")
            if id(inner) in self.parenthesised:
                raise self.invalid("The expression has redundant parentheses;")
            self.parenthesised.add(id(inner))
            return inner
        nxt = self.peek(1)
        if (
            t is not None
            and t.kind == "name"
            and nxt is not None
            and nxt.text == "("
            and t.text in CONDITION_FUNCTIONS
        ):
            return self.call(CONDITION_FUNCTIONS)
        left = self.operand(OPERAND_FUNCTIONS)
        t = self.peek()
        if t is not None and t.kind == "op" and t.text in _COMPARATORS:
            self.pos += 1
            return Compare(t.text, left, self.operand(OPERAND_FUNCTIONS))
        word = self.peek_word()
        if word == "between":
            self.pos += 1
            low = self.operand(OPERAND_FUNCTIONS)
            self.expect("and")
            return Between(left, low, self.operand(OPERAND_FUNCTIONS))
        if word == "in":
            self.pos += 1
            self.expect("(")
            options = [self.operand(OPERAND_FUNCTIONS)]
            while True:
                t = self.take()
                if t.text == ")":
                    break
                if t.text != ",":
                    self.pos -= 1
                    raise self.error()
                options.append(self.operand(OPERAND_FUNCTIONS))
            return In(left, tuple(options))
        raise self.error()

    # -- update ---------------------------------------------------------------------------------
    def update(self) -> Update:
        actions: list[Action] = []
        seen: set[str] = set()
        if self.at_end():
            raise self.error()
        while not self.at_end():
            word = self.peek_word().upper()
            if word not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise self.error()
            if word in seen:
                raise errors.validation(
                    "1 validation error detected: Invalid UpdateExpression: "
                    f'The "{word}" section can only be used once in an update expression;'
                )
            seen.add(word)
            self.pos += 1
            while True:
                actions.append(self.action(word))
                t = self.peek()
                if t is None or t.text != ",":
                    break
                self.pos += 1
        return Update(tuple(actions))

    def action(self, kind: str) -> Action:
        path = self.path()
        if kind == "REMOVE":
            return Action(kind, path)
        if kind == "SET":
            self.expect("=")
            return Action(kind, path, self.set_value())
        t = self.peek()
        if t is None or t.kind != "attr_value":
            raise self.error()
        self.pos += 1
        self.values.append(t.text)
        return Action(kind, path, Value(t.text))

    def set_value(self) -> Operand:
        left = self.operand(UPDATE_FUNCTIONS)
        t = self.peek()
        if t is not None and t.text in ("+", "-"):
            self.pos += 1
            return Arith(t.text, left, self.operand(UPDATE_FUNCTIONS))
        return left

    def finish(self) -> None:
        if not self.at_end():
            raise self.error()


@dataclass(frozen=True)
class Parsed:
    """A parse tree plus the placeholders it uses, in order of appearance."""

    tree: object
    names: tuple[str, ...]
    values: tuple[str, ...]


def _empty(kind: str) -> Exception:
    return errors.invalid_expression(kind, "The expression can not be empty;")


# Parentheses (grouping and function calls) nested deeper than this are refused before
# parsing, so the answer does not depend on the interpreter's recursion limit (which other
# libraries raise: jsonata sets 10000 when first used). AWS documents no nesting limit (its
# 4 KB expression size comes first); the number is ours, unverified.
MAX_NESTING = 200


def _check_nesting(text: str, kind: str) -> None:
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
            if depth > MAX_NESTING:
                raise _too_deep(kind)
        elif ch == ")":
            depth -= 1


def _too_deep(kind: str) -> Exception:
    # The recursive-descent parser's stack ran out. AWS's wording for this is not documented
    # (its 4 KB expression limit comes first there); unverified.
    return errors.invalid_expression(kind, "The expression is nested too deeply;")


@lru_cache(maxsize=512)
def parse_condition(text: str, kind: str = "ConditionExpression") -> Parsed:
    if not text.strip():
        raise _empty(kind)
    _check_nesting(text, kind)
    p = _Parser(text, kind)
    try:
        tree = p.condition()
    except RecursionError:
        raise _too_deep(kind) from None
    p.finish()
    return Parsed(tree, tuple(p.names), tuple(p.values))


@lru_cache(maxsize=512)
def parse_update(text: str) -> Parsed:
    if not text.strip():
        raise _empty("UpdateExpression")
    _check_nesting(text, "UpdateExpression")
    p = _Parser(text, "UpdateExpression")
    try:
        tree = p.update()
    except RecursionError:
        raise _too_deep("UpdateExpression") from None
    p.finish()
    return Parsed(tree, tuple(p.names), tuple(p.values))


@lru_cache(maxsize=512)
def parse_projection(text: str) -> Parsed:
    if not text.strip():
        raise _empty("ProjectionExpression")
    p = _Parser(text, "ProjectionExpression")
    paths = [p.path()]
    while not p.at_end():
        p.expect(",")
        paths.append(p.path())
    return Parsed(tuple(paths), tuple(p.names), tuple(p.values))


def check_placeholders(
    parsed: list[tuple[str, Parsed]],
    names: dict[str, str] | None,
    values: dict[str, object] | None,
    write: bool = False,
) -> None:
    """Unused placeholders first, then undefined ones — DynamoDB's order and wording (write
    operations prefix the unused-placeholder message with "1 validation error detected: ").

    ``parsed`` pairs each parse with the request field it came from (``UpdateExpression``...).
    """
    if names is not None:
        if not names:
            raise errors.validation("ExpressionAttributeNames must not be empty")
        for key in names:
            if not re.fullmatch(r"#[A-Za-z0-9_]+", key):
                raise errors.validation(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                )
    if values is not None:
        if not values:
            # DynamoDB's wording carries the request-validation prefix here (not for names).
            raise errors.validation(
                "1 validation error detected: ExpressionAttributeValues must not be empty"
            )
        for key in values:
            if not re.fullmatch(r":[A-Za-z0-9_]+", key):
                raise errors.validation(
                    f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
                )
    used_names = {n for _, p in parsed for n in p.names}
    used_values = {v for _, p in parsed for v in p.values}
    prefix = "1 validation error detected: " if write else ""
    unused_names = [n for n in names or {} if n not in used_names]
    if unused_names:
        raise errors.validation(
            prefix + "Value provided in ExpressionAttributeNames unused in expressions: "
            f"keys: {{{', '.join(unused_names)}}}"
        )
    unused_values = [v for v in values or {} if v not in used_values]
    if unused_values:
        raise errors.validation(
            prefix + "Value provided in ExpressionAttributeValues unused in expressions: "
            f"keys: {{{', '.join(unused_values)}}}"
        )
    for kind, p in parsed:
        for n in p.names:
            if n not in (names or {}):
                raise errors.invalid_expression(
                    kind,
                    "An expression attribute name used in the document path is not defined; "
                    f"attribute name: {n}",
                )
        for v in p.values:
            if v not in (values or {}):
                raise errors.invalid_expression(
                    kind,
                    "An expression attribute value used in expression is not defined; "
                    f"attribute value: {v}",
                )
