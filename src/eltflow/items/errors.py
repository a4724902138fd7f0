"""DynamoDB's error codes and messages, built in one place so the wording stays exact.

Every failure of the item tables is an :class:`~eltflow.errors.AwsApiError` whose ``code`` is
what botocore would put in ``Error.Code`` and whose ``message`` is DynamoDB's own text (checked
against moto, which mirrors AWS, in tests/property/test_property_ddb_vs_moto.py).
"""

from __future__ import annotations

from typing import Any

from eltflow.errors import AwsApiError

VALIDATION = "ValidationException"
CONDITIONAL_FAILED = "ConditionalCheckFailedException"
NOT_FOUND = "ResourceNotFoundException"
IN_USE = "ResourceInUseException"


class ConditionalCheckFailed(AwsApiError):
    """A ConditionExpression evaluated to false; ``item`` is the old item (for
    ``ReturnValuesOnConditionCheckFailure=ALL_OLD``)."""

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        super().__init__(CONDITIONAL_FAILED, "The conditional request failed")
        self.item = item


class TransactionCanceled(AwsApiError):
    """TransactWriteItems was cancelled; ``reasons`` has one entry per item, in order."""

    def __init__(self, reasons: list[dict[str, str]]) -> None:
        codes = ", ".join(r["Code"] for r in reasons)
        super().__init__(
            "TransactionCanceledException",
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{codes}]",
        )
        self.reasons = reasons


def validation(message: str) -> AwsApiError:
    return AwsApiError(VALIDATION, message)


def table_not_found(table: str | None = None) -> AwsApiError:
    # Data-plane calls say only "Requested resource not found"; DescribeTable names the table.
    if table is None:
        return AwsApiError(NOT_FOUND, "Requested resource not found")
    return AwsApiError(NOT_FOUND, f"Requested resource not found: Table: {table} not found")


def no_such_table_for_delete() -> AwsApiError:
    return AwsApiError(NOT_FOUND, "Cannot do operations on a non-existent table")


def table_exists(table: str) -> AwsApiError:
    return AwsApiError(IN_USE, f"Table already exists: {table}")


def syntax_error(kind: str, token: str, near: str) -> AwsApiError:
    return validation(f'Invalid {kind}: Syntax error; token: "{token}", near: "{near}"')


def invalid_expression(kind: str, detail: str) -> AwsApiError:
    """``Invalid <kind>: <detail>`` — kind is UpdateExpression, ConditionExpression..."""
    return validation(f"Invalid {kind}: {detail}")


def incorrect_data_type() -> AwsApiError:
    return validation("An operand in the update expression has an incorrect data type")


def missing_attribute() -> AwsApiError:
    return validation(
        "The provided expression refers to an attribute that does not exist in the item"
    )


def invalid_document_path() -> AwsApiError:
    return validation("The document path provided in the update expression is invalid for update")


def key_mismatch() -> AwsApiError:
    return validation("The provided key element does not match the schema")
