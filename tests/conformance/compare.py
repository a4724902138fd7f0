"""Score one execution result against an AWS-recorded conformance case.

The same rules as the shared runner (``conformance/run.py``), reimplemented so the test suite
does not import from outside the repository:

- ``status`` must match;
- SUCCEEDED: ``output`` is compared as parsed JSON (key order ignored, numbers by value,
  booleans, numbers and null distinct);
- FAILED / TIMED_OUT: ``error`` and ``cause`` are compared character for character;
- placeholders in ``compare.wildcards`` match any text, values at ``compare.ignore_paths`` only
  have to exist, and ``compare.normalize`` rewrites the actual result first (timestamps).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_MISSING: Any = object()


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object" if isinstance(v, dict) else type(v).__name__


def _short(v: Any, n: int = 200) -> str:
    s = "<missing>" if v is _MISSING else json.dumps(v, sort_keys=True)
    return s if len(s) <= n else s[: n - 3] + "..."


def _where(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


class _Comparer:
    def __init__(self, compare: Mapping[str, Any]) -> None:
        wild: list[str] = list(compare.get("wildcards") or [])
        self.wild = re.compile("|".join(f"(?:{w})" for w in wild)) if wild else None
        self.ignore = {
            field: {tuple(p) for p in paths}
            for field, paths in (compare.get("ignore_paths") or {}).items()
        }
        self.ops: list[Mapping[str, Any]] = list(compare.get("normalize") or [])

    # -- normalisation of the actual value (what the recording's transformers did to AWS's)
    def normalize(self, value: Any) -> Any:
        for op in self.ops:
            if op.get("op") == "timestamp_keys":
                value = self._timestamp_keys(value, op)
            elif op.get("op") == "regex_sub":
                value = self._sub(value, re.compile(op["pattern"]), op["replacement"])
        return value

    def _timestamp_keys(self, value: Any, op: Mapping[str, Any]) -> Any:
        flags = re.IGNORECASE if "i" in op.get("key_flags", "") else 0
        key_re = re.compile(op["key_regex"], flags)
        keys = set(op.get("keys") or [])
        unless = re.compile(op["unless_value_matches"]) if op.get("unless_value_matches") else None

        def rec(d: Any) -> Any:
            if not isinstance(d, dict):
                return d
            out: dict[str, Any] = {}
            for k, v in d.items():
                hit = isinstance(k, str) and (key_re.match(k) or k in keys)
                if hit and not (unless and unless.match(str(v))):
                    out[k] = op["replacement"]
                elif isinstance(v, list):
                    out[k] = [rec(x) for x in v]
                else:
                    out[k] = rec(v)
            return out

        return rec(value)

    def _sub(self, value: Any, pattern: re.Pattern[str], repl: str) -> Any:
        if isinstance(value, str):
            return pattern.sub(repl, value)
        if isinstance(value, list):
            return [self._sub(x, pattern, repl) for x in value]
        if isinstance(value, dict):
            return {
                self._sub(k, pattern, repl): self._sub(v, pattern, repl) for k, v in value.items()
            }
        return value

    # -- matching
    def text_matches(self, expected: str, actual: Any) -> bool:
        if not isinstance(actual, str):
            return False
        if self.wild is None or not self.wild.search(expected):
            return expected == actual
        parts: list[str] = []
        pos = 0
        for m in self.wild.finditer(expected):
            parts += [re.escape(expected[pos : m.start()]), ".+?"]
            pos = m.end()
        parts.append(re.escape(expected[pos:]))
        return re.fullmatch("".join(parts), actual, re.DOTALL) is not None

    def diff(
        self, field: str, exp: Any, act: Any, path: tuple[str | int, ...], out: list[str]
    ) -> None:
        where = f"{field}{_where(path)}"
        if path in self.ignore.get(field, set()):
            if act is _MISSING:
                out.append(f"{where}: missing")
            return
        ke, ka = _kind(exp), _kind(act)
        if act is _MISSING:
            out.append(f"{where}: missing (expected {_short(exp)})")
        elif ke == "string":
            if not self.text_matches(exp, act):
                out.append(f"{where}: expected {_short(exp)} got {_short(act)}")
        elif ke != ka:
            out.append(f"{where}: expected {ke} {_short(exp)} got {ka} {_short(act)}")
        elif ke == "object":
            left = set(act)
            unmatched = []
            for k, v in exp.items():
                if k in act:
                    left.discard(k)
                    self.diff(field, v, act[k], (*path, k), out)
                else:
                    unmatched.append((k, v))
            for k, v in unmatched:  # keys holding placeholders
                cand = [a for a in sorted(left) if self.wild and self.text_matches(k, a)]
                if cand:
                    left.discard(cand[0])
                self.diff(field, v, act[cand[0]] if cand else _MISSING, (*path, k), out)
            out += [f"{field}{_where((*path, k))}: unexpected key" for k in sorted(left)]
        elif ke == "array":
            if len(exp) != len(act):
                out.append(f"{where}: expected {_short(exp)} got {_short(act)}")
            else:
                for i, (e, a) in enumerate(zip(exp, act, strict=True)):
                    self.diff(field, e, a, (*path, i), out)
        elif exp != act:
            out.append(f"{where}: expected {_short(exp)} got {_short(act)}")


def problems(case: Mapping[str, Any], result: Mapping[str, Any]) -> list[str]:
    """Every way ``result`` (``{"status", "output", "error", "cause"}``) differs from the case's
    recorded outcome; empty when it passes."""
    expected = case["expected"]
    status = result.get("status")
    if status != expected["status"]:
        return [
            f"status: expected {expected['status']} got {status} "
            f"(error={_short(result.get('error'), 80)} cause={_short(result.get('cause'), 300)})"
        ]
    cmp = _Comparer(case.get("compare") or {})
    out: list[str] = []
    if status == "SUCCEEDED":
        if "output" in expected:
            act = result.get("output", _MISSING)
            cmp.diff("output", expected["output"], cmp.normalize(act), (), out)
        return out
    for field in ("error", "cause"):
        if field not in expected:
            continue
        act = result.get(field)
        if isinstance(act, str):
            act = cmp.normalize(act)
        exp = expected[field]
        if exp is None:
            if act not in (None, ""):
                out.append(f"{field}: expected none got {_short(act)}")
        elif () in cmp.ignore.get(field, set()):
            continue
        elif not cmp.text_matches(exp, act):
            out.append(f"{field}: expected {_short(exp, 500)} got {_short(act, 500)}")
    return out
