"""The test kit's fixtures, as a user's session gets them from the pytest11 entry point (a
development install made before the entry point existed may not have registered it)."""

from __future__ import annotations

from eltflow.testing.plugin import sfn_mock_config, sfn_run

__all__ = ["sfn_mock_config", "sfn_run"]
