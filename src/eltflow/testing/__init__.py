"""A test kit for users' own state machines: run a definition in memory on the virtual clock
with task results mocked per state, from a mock file in the format AWS's Step Functions Local
reads (``StateMachines`` → ``TestCases`` → ``MockedResponses``), and read the history.

The pytest plugin (:mod:`eltflow.testing.plugin`, registered through the ``pytest11`` entry
point) gives the ``sfn_run`` fixture; :func:`run_test_case` is the same without pytest.
"""

from __future__ import annotations

from eltflow.testing.mocks import MockConfig, MockError, run_test_case, state_output, states_entered

__all__ = ["MockConfig", "MockError", "run_test_case", "state_output", "states_entered"]
