"""Redshift datetime format models (TO_CHAR, TO_DATE, TO_TIMESTAMP) compiled for DuckDB.

sqlglot maps format strings through strftime codes token by token, which loses what DuckDB has
no code for: ``to_char(d, 'Day')`` became ``%uay`` ("5ay"). Here the translator parses with
the raw format kept (see :data:`RAW_FORMATS`) and this module compiles it: TO_CHAR becomes a
concatenation of ``strftime`` pieces and padded names, TO_DATE/TO_TIMESTAMP a ``strptime``
format. PostgreSQL shares Redshift's format models, so it gets the raw string unchanged.

Source: "Datetime format strings"
(https://docs.aws.amazon.com/redshift/latest/dg/r_FORMAT_strings.html): MONTH/Month/month and
DAY/Day/day are blank-padded to 9 characters, MON/DY to 3; D is the day of the week with
Sunday = 1; ID the ISO day (Monday = 1); HH and HH12 the 12-hour clock. ``FM`` drops the
padding of the element after it (as in PostgreSQL, whose models Redshift's follow).
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.redshift import Redshift


class RawFormats(Redshift):
    """Redshift as sqlglot reads it, minus the format-string mapping (formats stay as written)."""

    TIME_MAPPING: dict[str, str] = {}


RAW_FORMATS = RawFormats


class UnsupportedFormat(ValueError):
    """A format element this module cannot compile (the statement then runs as written)."""


# Element → (strftime code, code with FM). Longest elements first when matching.
_CODES: dict[str, tuple[str, str]] = {
    "YYYY": ("%Y", "%Y"),
    "IYYY": ("%G", "%G"),
    "HH24": ("%H", "%-H"),
    "HH12": ("%I", "%-I"),
    "DDD": ("%j", "%-j"),
    "YY": ("%y", "%-y"),
    "MM": ("%m", "%-m"),
    "DD": ("%d", "%-d"),
    "HH": ("%I", "%-I"),
    "MI": ("%M", "%-M"),
    "SS": ("%S", "%-S"),
    "MS": ("%g", "%g"),
    "US": ("%f", "%f"),
    "IW": ("%V", "%-V"),
    "ID": ("%u", "%u"),
}
# Names: element (upper) → (strftime code, padded width).
_NAMES: dict[str, tuple[str, int]] = {
    "MONTH": ("%B", 9),
    "MON": ("%b", 3),
    "DAY": ("%A", 9),
    "DY": ("%a", 3),
}
_MERIDIEM = ("AM", "PM")
_OTHER = ("Q", "D", "Y")
_ELEMENTS = sorted(
    [*_CODES, *_NAMES, *_MERIDIEM, *_OTHER, "YYY"],
    key=len,
    reverse=True,
)
_PARSE_CODES: dict[str, str] = {
    "YYYY": "%Y",
    "YY": "%y",
    "MM": "%m",
    "DD": "%d",
    "DDD": "%j",
    "HH24": "%H",
    "HH12": "%I",
    "HH": "%I",
    "MI": "%M",
    "SS": "%S",
    "MS": "%g",
    "US": "%f",
    "MONTH": "%B",
    "MON": "%b",
    "DAY": "%A",
    "DY": "%a",
    "AM": "%p",
    "PM": "%p",
}


def _tokens(fmt: str) -> list[tuple[str, str, bool]]:
    """(kind, text, fill-mode) triples: kind is "lit" or an element in upper case."""
    out: list[tuple[str, str, bool]] = []
    i = 0
    fm = False
    while i < len(fmt):
        if fmt[i] == '"':
            end = fmt.find('"', i + 1)
            end = len(fmt) if end < 0 else end
            out.append(("lit", fmt[i + 1 : end], False))
            i = end + 1
            continue
        if fmt[i : i + 2].upper() == "FM":
            fm = True
            i += 2
            continue
        for element in _ELEMENTS:
            if fmt[i : i + len(element)].upper() == element:
                out.append((element, fmt[i : i + len(element)], fm))
                fm = False
                i += len(element)
                break
        else:
            out.append(("lit", fmt[i], False))
            i += 1
    return out


def _strftime(value: exp.Expression, code: str) -> exp.Expression:
    return exp.Anonymous(this="strftime", expressions=[value.copy(), exp.Literal.string(code)])


def _cased(node: exp.Expression, written: str) -> exp.Expression:
    if written.isupper():
        return exp.Upper(this=node)
    if written.islower():
        return exp.Lower(this=node)
    return node


def to_char(value: exp.Expression, fmt: str) -> exp.Expression:
    """DuckDB expression for Redshift's ``TO_CHAR(value, fmt)`` of a date or timestamp."""
    ts = exp.cast(value, exp.DataType.build("TIMESTAMP"))
    pieces: list[exp.Expression] = []
    codes: list[str] = []  # a run of plain strftime codes and literals, joined into one call

    def flush() -> None:
        if codes:
            pieces.append(_strftime(ts, "".join(codes)))
            codes.clear()

    for kind, written, fm in _tokens(fmt):
        if kind == "lit":
            codes.append(written.replace("%", "%%"))
        elif kind in _CODES:
            codes.append(_CODES[kind][1 if fm else 0])
        elif kind in _NAMES:
            flush()
            code, width = _NAMES[kind]
            name = _cased(_strftime(ts, code), written)
            if not fm:
                name = exp.Anonymous(
                    this="rpad",
                    expressions=[name, exp.Literal.number(width), exp.Literal.string(" ")],
                )
            pieces.append(name)
        elif kind in _MERIDIEM:
            flush()
            pieces.append(_cased(_strftime(ts, "%p"), written))
        elif kind == "Q":
            flush()
            pieces.append(_text(exp.Anonymous(this="quarter", expressions=[ts.copy()])))
        elif kind == "D":
            flush()
            dow = exp.Anonymous(this="dayofweek", expressions=[ts.copy()])
            pieces.append(_text(exp.Add(this=dow, expression=exp.Literal.number(1))))
        elif kind in ("YYY", "Y"):
            flush()
            year = _strftime(ts, "%Y")
            pieces.append(exp.Right(this=year, expression=exp.Literal.number(len(kind))))
        else:  # pragma: no cover - every element is handled above
            raise UnsupportedFormat(f"format element {written!r} is not supported on DuckDB")
    flush()
    if not pieces:
        return exp.Literal.string("")
    out = pieces[0]
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=piece, safe=True)
    return out


def _text(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("VARCHAR"))


def strptime_format(fmt: str) -> str:
    """DuckDB ``strptime`` format for Redshift's ``TO_DATE``/``TO_TIMESTAMP`` format ``fmt``."""
    out: list[str] = []
    for kind, written, _fm in _tokens(fmt):
        if kind == "lit":
            out.append(written.replace("%", "%%"))
        elif kind in _PARSE_CODES:
            out.append(_PARSE_CODES[kind])
        else:
            raise UnsupportedFormat(
                f"format element {written!r} of {fmt!r} cannot be parsed on DuckDB"
            )
    return "".join(out)


def is_numeric_format(fmt: str) -> bool:
    """True for a numeric format model (``'999D99'``, ``'FM0000'``), not a datetime one."""
    body = fmt.upper().replace("FM", "")
    return bool(body) and all(c in "90.,DGSMIPRL$ " for c in body) and any(c in "90" for c in body)


# --- numeric format models (r_Numeric_formating) ---------------------------------------------
#
# "Numeric format strings" (https://docs.aws.amazon.com/redshift/latest/dg/r_Numeric_formating.html):
# 9 is a digit (blank when not significant), 0 a digit kept as a leading zero, . or D the decimal
# point, , or G the group separator; TO_CHAR "inserts a space to the left of the numeral string"
# (the sign's place) and pads to the format's width; FM drops that padding. Other elements (S,
# MI, PR, L, V, TH, EEEE) are not compiled: such a statement runs as written on DuckDB.


def _numeric_pattern(fmt: str) -> tuple[bool, str, str]:
    """(fill mode, integer part, fraction part) of a numeric format, or UnsupportedFormat."""
    fm = fmt.upper().startswith("FM")
    body = fmt[2:] if fm else fmt
    if (
        any(c not in "90.D,G" for c in body.upper())
        or body.upper().count(".") + body.upper().count("D") > 1
    ):
        raise UnsupportedFormat(f"numeric format {fmt!r} is not supported on DuckDB")
    upper = body.upper().replace("D", ".")
    integer, _, fraction = upper.partition(".")
    return fm, integer.replace("G", ","), fraction


def numeric_to_char(value: exp.Expression, fmt: str) -> exp.Expression:
    """DuckDB expression for Redshift's ``TO_CHAR(number, fmt)`` (see the notes above)."""
    import sqlglot

    fm, integer, fraction = _numeric_pattern(fmt)
    digits = integer.replace(",", "")
    frac = len(fraction)
    first_zero = digits.find("0")
    min_int = len(digits) - first_zero if first_zero >= 0 else (0 if frac else 1)
    # The rounded absolute value as text, split at the point; then the integer digits with
    # their leading zeros (or none when not significant) and group separators.
    text = f"printf('%.{frac}f', round(abs(CAST(__v__ AS DOUBLE)), {frac}))"
    int_part = f"split_part({text}, '.', 1)"
    pad = max(min_int, 1)
    int_text = (
        f"CASE WHEN {int_part} = '0' AND {min_int} = 0 THEN '' ELSE "
        + (
            f"format('{{:,}}', CAST({int_part} AS BIGINT))"
            if "," in integer
            # lpad cuts longer text: pad to at least the digits the value has
            else f"lpad({int_part}, CAST(greatest(length({int_part}), {pad}) AS INTEGER), '0')"
        )
        + " END"
    )
    frac_text = f"'.' || split_part({text}, '.', 2)" if frac else "''"
    if fm and frac:
        frac_text = f"rtrim({frac_text}, '0')"
    sign = (
        "CASE WHEN __v__ < 0 THEN '-' ELSE '' END"
        if fm
        else ("CASE WHEN __v__ < 0 THEN '-' ELSE ' ' END")
    )
    body = f"{sign} || {int_text} || {frac_text}"
    width = len(integer) + (frac + 1 if frac or "." in fmt else 0) + 1
    sql = body if fm else f"lpad({body}, CAST(greatest(length({body}), {width}) AS INTEGER), ' ')"
    tree = sqlglot.parse_one(sql, read="duckdb")

    def fill(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name == "__v__":
            return value.copy()
        return node

    return tree.transform(fill)


def to_number(value: exp.Expression, fmt: str) -> exp.Expression:
    """DuckDB expression for Redshift's ``TO_NUMBER(text, fmt)``: DECIMAL of the format's scale."""
    point = max(fmt.upper().rfind("."), fmt.upper().rfind("D"))
    scale = sum(c in "90" for c in fmt[point + 1 :]) if point >= 0 else 0
    cleaned = exp.Anonymous(
        this="regexp_replace",
        expressions=[
            exp.Trim(this=value.copy()),
            exp.Literal.string("[,$ ]"),
            exp.Literal.string(""),
            exp.Literal.string("g"),
        ],
    )
    return exp.cast(cleaned, exp.DataType.build(f"DECIMAL(38, {scale})"))
