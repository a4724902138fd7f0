"""One Data API SQL text as Redshift runs it: statement by statement, transaction verbs included.

A text may hold several statements (``begin; insert ...; end transaction;``). Each is translated
on its own, so one statement sqlglot cannot handle leaves the others translated, and an error
names the statement (its position and first words). Transaction verbs are not sent to the engine
as written: they drive the engine's transaction, with Redshift's (PostgreSQL 8's) rules:

- ``BEGIN`` / ``START TRANSACTION`` inside a transaction is a no-op (Redshift warns "there is
  already a transaction in progress"); ``BatchExecuteStatement`` runs its statements in one
  transaction already, so a batch that says ``begin transaction`` is the common case.
- ``COMMIT`` / ``END [TRANSACTION]`` commits; ``ROLLBACK`` / ``ABORT`` rolls back; either one
  outside a transaction is a no-op (Redshift warns "there is no transaction in progress").
- Statements after a ``COMMIT`` in a batch run on their own (each commits), as they do once the
  batch's transaction has ended on Redshift.

Source: BEGIN, END, COMMIT, ROLLBACK and ABORT in the Redshift SQL reference
(https://docs.aws.amazon.com/redshift/latest/dg/r_BEGIN.html,
https://docs.aws.amazon.com/redshift/latest/dg/r_END.html). What an explicit transaction left
open at the end of an ``ExecuteStatement`` becomes is not documented; like a closed PostgreSQL
session, it is rolled back here (unverified).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from eltflow.warehouse.base import SqlError, StatementResult
from eltflow.warehouse.sqltext import split_script

Verb = Literal["begin", "commit", "rollback"]

_BEGIN = re.compile(
    r"^(?:BEGIN(?:\s+(?:WORK|TRANSACTION))?|START\s+TRANSACTION)"
    r"(?:\s+ISOLATION\s+LEVEL\s+[A-Z ]+|\s+READ\s+(?:WRITE|ONLY))*$",
    re.I,
)
_COMMIT = re.compile(r"^(?:COMMIT|END)(?:\s+(?:WORK|TRANSACTION))?$", re.I)
_ROLLBACK = re.compile(r"^(?:ROLLBACK|ABORT)(?:\s+(?:WORK|TRANSACTION))?$", re.I)
_SNIPPET = 60


@dataclass(frozen=True, kw_only=True)
class Statement:
    """One statement of a text: its Redshift SQL, 1-based position and the text's count."""

    sql: str
    position: int
    total: int
    verb: Verb | None = None

    def where(self) -> str:
        """``statement 2 of 3 ("insert into t ...")`` for error messages; '' for a lone one."""
        if self.total <= 1:
            return ""
        words = " ".join(self.sql.split())
        if len(words) > _SNIPPET:
            words = words[: _SNIPPET - 3] + "..."
        return f'statement {self.position} of {self.total} ("{words}")'


def transaction_verb(sql: str) -> Verb | None:
    """Which transaction verb ``sql`` is, if any.

    >>> transaction_verb("end transaction"), transaction_verb("begin"), transaction_verb("abort")
    ('commit', 'begin', 'rollback')
    """
    text = " ".join(sql.split()).rstrip(";").strip()
    if _BEGIN.match(text):
        return "begin"
    if _COMMIT.match(text):
        return "commit"
    if _ROLLBACK.match(text):
        return "rollback"
    return None


def statements(text: str) -> list[Statement]:
    """The statements of ``text``; a text of nothing but comments is kept as one statement."""
    parts = split_script(text) or [text]
    return [
        Statement(sql=p, position=i, total=len(parts), verb=transaction_verb(p))
        for i, p in enumerate(parts, 1)
    ]


def lone_statement(sqls: Sequence[str], outside: re.Pattern[str]) -> bool:
    """One text of one ordinary statement that ``outside`` (what the engine refuses inside a
    transaction block) does not match: it can run in a transaction of its own."""
    if len(sqls) != 1:
        return False
    parts = statements(sqls[0])
    return len(parts) == 1 and parts[0].verb is None and not outside.match(sqls[0])


def one_transaction(sqls: Sequence[str]) -> bool:
    """No COMMIT or ROLLBACK before the run's very end: run in a transaction, all of it commits
    or none, so one transaction's fate tells the whole run's."""
    parts = [p for text in sqls for p in statements(text)]
    ends = [i for i, p in enumerate(parts) if p.verb in ("commit", "rollback")]
    return not ends or (ends == [len(parts) - 1] and parts[-1].verb == "commit")


class Transaction(Protocol):
    """The engine side of a run's transaction."""

    def active(self) -> bool: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


def run_text(
    text: str,
    tx: Transaction,
    one: Callable[[Statement], StatementResult],
    index: int,
) -> StatementResult:
    """Run every statement of ``text``; the result is the last statement's.

    ``one`` runs a (non-transaction) statement; a :class:`SqlError` it raises gets the
    statement's position in the text and ``index`` (the text's position in a batch).
    """
    result = StatementResult(has_result_set=False)
    for stmt in statements(text):
        if stmt.verb == "begin":
            if not tx.active():
                tx.begin()
            continue
        if stmt.verb == "commit":
            if tx.active():
                tx.commit()
            continue
        if stmt.verb == "rollback":
            if tx.active():
                tx.rollback()
            continue
        try:
            result = one(stmt)
        except SqlError as e:
            where = stmt.where()
            raise SqlError(f"{where}: {e.message}" if where else e.message, index) from e
    return result
