"""The pytest plugin of eltflow's test kit (entry point ``pytest11``).

Fixtures:

- ``sfn_mock_config``: the mock file given by ``--sfn-mock-config PATH`` (or the
  ``SFN_MOCK_CONFIG`` environment variable, as Step Functions Local reads it), else None;
- ``sfn_run``: ``sfn_run(definition, input, state_machine=..., test_case=...,
  mock_config=None, tasks=None)`` runs a test case in memory on the virtual clock and returns
  the :class:`~eltflow.runtime.local.ExecutionResult` (``status``, ``output``, ``history``...).

Nothing is imported from eltflow until a fixture is used, so the plugin costs a test session
that does not use it nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--sfn-mock-config",
        default=None,
        metavar="PATH",
        help="eltflow: a Step Functions Local mock configuration file for the sfn_run fixture",
    )


@pytest.fixture
def sfn_mock_config(request: pytest.FixtureRequest) -> str | None:
    # default=None: the fixture also works imported into a test module without the plugin.
    path = request.config.getoption("--sfn-mock-config", default=None) or os.environ.get(
        "SFN_MOCK_CONFIG"
    )
    return str(path) if path else None


@pytest.fixture
def sfn_run(sfn_mock_config: str | None) -> Callable[..., Any]:
    from eltflow.testing.mocks import MockError, run_test_case

    def run(
        definition: Any,
        input: Any = None,
        *,
        state_machine: str,
        test_case: str,
        mock_config: Any = None,
        tasks: Any = None,
    ) -> Any:
        config = mock_config if mock_config is not None else sfn_mock_config
        if config is None:
            raise MockError("sfn_run: no mock config (pass mock_config= or --sfn-mock-config)")
        return run_test_case(
            definition,
            input,
            mock_config=config,
            state_machine=state_machine,
            test_case=test_case,
            tasks=tasks,
        )

    return run
