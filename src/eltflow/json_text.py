"""JSON text as AWS writes it (and as eltflow stores it): compact, keys in order, UTF-8 kept —
exactly the text of ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``, written by
orjson where its text is that one.

Shared by the interpreter (history payloads) and the state store (event details, snapshots):
both write the same texts, so a history event reads back the same whichever wrote it.
"""

from __future__ import annotations

import json
import json.encoder
import re
from typing import Any

import orjson

from eltflow.types import JSON

# One encoder for every call: ``json.dumps`` with non-default options builds a new one each time.
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_encode = _encoder.encode
# ``JSONEncoder.encode`` still builds a C encoder object per call, which costs more than
# encoding a small item (a Map over 100 items encodes 100+ of them); build that object once.
# Same arguments as ``encode`` passes, except no circular-reference bookkeeping: values come
# from JSON text or from task results already checked with ``json.dumps``.
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_c_encoder: Any = (
    _make_encoder(
        None,  # markers: no circular-reference check
        _encoder.default,
        json.encoder.encode_basestring,
        None,  # indent
        ":",
        ",",
        False,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )
    if _make_encoder is not None
    else None
)
encode_key = json.encoder.encode_basestring
"""A JSON object key (a ``str``) as :func:`dumps` writes it, quotes included."""


def _dumps_stdlib(value: JSON) -> str:
    if _c_encoder is None:  # pragma: no cover - CPython always has the C encoder
        return _encode(value)
    return "".join(_c_encoder(value, 0))


# orjson writes what the json module writes (compact, keys in order, UTF-8 kept, the same
# string escapes, the same shortest float digits with ``e+16`` exponents) about 10x faster,
# except for three things, all checked for on its output (a hit only costs a second encoding,
# by the json module, whose text is then the one kept):
# - a float below 1e-4 in magnitude: json writes ``1e-05``, orjson ``0.00001`` or ``1.5e-7``.
#   Such a number has "0.0000" or a digit before "e-" in orjson's text;
# - NaN and +/-Infinity: json writes ``NaN``/``Infinity``, orjson ``null``. Text with a "null"
#   (every snapshot has some) is decoded back and compared with the value: a NaN or Infinity
#   written as null decodes to None, which equals no float, so the two differ exactly then.
#   (Other values decode to equal ones: floats round-trip, -0.0 == 0.0, dict order is not
#   compared but orjson keeps it. A tuple decodes to an unequal list: encoded again, the same
#   text.) Decoding costs a third of the json module's encoding (a 1,000-frame snapshot:
#   ~2.5 vs ~7 ms);
# - what orjson refuses (an int beyond 64 bits, a non-string key, a lone surrogate) and what
#   it passes through to the (absent) default hook: str/int/dict/list subclasses, datetimes
#   and dataclasses, which the json module encodes or refuses its own way.
# The one difference left: a value that is not JSON at all but that orjson encodes natively
# (a uuid.UUID or an Enum member) gets a text where json raises TypeError; a payload decoded
# from JSON text or a task result (checked with json.dumps) never holds one.
# (tests/property/test_property_payload_text.py compares both on edge cases and random values.)
_orjson_dumps = orjson.dumps
_orjson_loads = orjson.loads
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_SMALL_EXPONENT = re.compile(r"e-(?<=[0-9]e-)").search  # literal first: a fast scan


def dumps(value: JSON) -> str:
    """JSON as AWS writes it into history: compact, UTF-8 kept (exactly as ``json.dumps``
    with ``separators=(",", ":"), ensure_ascii=False`` writes it)."""
    try:
        raw = _orjson_dumps(value, None, _OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return _dumps_stdlib(value)
    # The checks look at the decoded text: ``in`` on a str costs a third of ``in`` on bytes
    # (CPython 3.11: ~1k against ~3k instructions each, callgrind), and the text is needed
    # anyway. The patterns are ASCII, which UTF-8 writes as the same bytes and never inside
    # another character's bytes, so str and bytes find the same matches. The regex runs only
    # where an "e-" is there to find (a call to it costs three ``in``s).
    text = raw.decode()
    if "0.0000" in text or ("e-" in text and _SMALL_EXPONENT(text) is not None):
        return _dumps_stdlib(value)
    if "null" in text and _orjson_loads(raw) != value:
        return _dumps_stdlib(value)  # a NaN or Infinity became null
    return text


Fragment = orjson.Fragment
"""JSON text :func:`dumps_with_fragments` writes as it is (one :func:`dumps` wrote before)."""


def dumps_with_fragments(value: object) -> str | None:
    """The compact JSON text of ``value``, with each :data:`Fragment` in it written as it is,
    or None where orjson refuses something (a lone surrogate in a string, an int beyond 64
    bits): the caller then writes it another way. Without :func:`dumps`' checks: meant for a
    structure whose JSON values (payloads, which may hold any number) are all fragments made
    by :func:`dumps`, the rest strings, ints and finite floats of eltflow's own."""
    try:
        return _orjson_dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return None


__all__ = ["Fragment", "dumps", "dumps_with_fragments", "encode_key"]
