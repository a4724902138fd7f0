"""Type aliases shared across layers."""

from __future__ import annotations

from typing import TypeAlias

JSON: TypeAlias = "dict[str, JSON] | list[JSON] | str | int | float | bool | None"
"""Any value that ``json.loads`` can return."""

JSONObject: TypeAlias = "dict[str, JSON]"
