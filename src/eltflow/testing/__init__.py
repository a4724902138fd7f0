"""A test kit for users' own state machines: run a definition in memory on the virtual clock
with task results mocked per state, from a mock file in the format AWS's Step Functions Local
reads (``StateMachines`` → ``TestCases`` → ``MockedResponses``), and read the history.

The pytest plugin (:mod:`eltflow.testing.plugin`, registered through the ``pytest11`` entry
point) gives the ``sfn_run`` fixture; :func:`run_test_case` is the same without pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eltflow.testing.mocks import (
        MockConfig,
        MockError,
        run_test_case,
        state_output,
        states_entered,
    )

__all__ = ["MockConfig", "MockError", "run_test_case", "state_output", "states_entered"]


def __getattr__(name: str) -> Any:
    # Imported on first use: pytest loads the plugin (this package) in every test session
    # before coverage starts in xdist workers, so an eager import here would load half of
    # eltflow untraced — and cost every user's pytest run the import.
    if name in __all__:
        from eltflow.testing import mocks

        return getattr(mocks, name)
    raise AttributeError(f"module 'eltflow.testing' has no attribute {name!r}")
