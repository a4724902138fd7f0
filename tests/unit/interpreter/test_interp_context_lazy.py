"""The context object is built only for a Pass template or Choice rule that mentions ``$$``
(issue 16): those that do still read it, in every place a path can stand."""

from __future__ import annotations

import eltflow


def test_context_paths_still_resolve_in_pass_choice_and_intrinsics() -> None:
    definition = {
        "StartAt": "Look",
        "States": {
            "Look": {
                "Type": "Pass",
                "Parameters": {
                    "state.$": "$$.State.Name",
                    "greeting.$": "States.Format('hi {}', $$.Execution.Name)",
                },
                "Assign": {"seen.$": "$$.State.Name"},
                "Next": "Branch",
            },
            "Branch": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$$.Execution.Name", "StringEquals": "ctx-run", "Next": "Yes"}
                ],
                "Default": "No",
            },
            "Yes": {"Type": "Pass", "Parameters": {"seen.$": "$seen", "in.$": "$"}, "End": True},
            "No": {"Type": "Fail", "Error": "Wrong"},
        },
    }
    result = eltflow.execute(definition, {}, name="ctx-run")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {
        "seen": "Look",
        "in": {"state": "Look", "greeting": "hi ctx-run"},
    }


def test_a_template_without_context_paths_is_unchanged() -> None:
    definition = {
        "StartAt": "Add",
        "States": {
            "Add": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "End": True}
        },
    }
    assert eltflow.execute(definition, {"n": 1}).output == {"n": 2}
