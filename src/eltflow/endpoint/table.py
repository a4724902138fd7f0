"""The routing table: which local service answers which AWS API.

One entry per API, keyed the way the SDKs address it:

- JSON protocols (awsJson1_0/1_1) by the ``X-Amz-Target`` prefix, taken from botocore's model
  (``AWSStepFunctions``, ``RedshiftData``, ``DynamoDB_20120810``);
- the query protocol by the SigV4 credential scope's service name (``sns``), or, unsigned, by
  the one query API that has the ``Action``;
- Lambda (rest-json) by its path, in :mod:`eltflow.endpoint.lambda_rest`;
- S3 (rest-xml) by the SigV4 scope's service ``s3`` or a virtual-hosted bucket in ``Host``,
  in :mod:`eltflow.endpoint.s3_rest` over the app's S3 service.

An entry lists the operations eltflow implements; the rest of the model's operations get
``UnknownOperationException`` (JSON) or ``InvalidAction`` (query), as AWS answers an operation
it does not know. To add a JSON or query API, add an entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eltflow.endpoint import states
from eltflow.errors import AwsApiError
from eltflow.runtime import arns
from eltflow.types import AwsApi

if TYPE_CHECKING:
    from eltflow.app import App

Call = Callable[["App", str, dict[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Api:
    """One AWS API served here: botocore's model name, the operations eltflow implements, and
    ``call(app, operation, params)`` answering them."""

    model: str
    operations: frozenset[str]
    call: Call


def _states(app: App, operation: str, params: dict[str, Any]) -> Mapping[str, Any]:
    return states.OPERATIONS[operation](app, params)


def _service(name: str, pick: Callable[[App], AwsApi | None]) -> Call:
    """Calls ``pick(app).call(operation, params)`` (the app's service for API ``name``): the
    local services take and return the JSON wire shapes (base64 blobs, typed attribute
    values) themselves."""

    def call(app: App, operation: str, params: dict[str, Any]) -> Mapping[str, Any]:
        service = pick(app)
        if service is None:
            raise AwsApiError(
                "UnknownOperationException",
                f"The {name} service is not set up in this eltflow app (no eltflow.toml?)",
            )
        out: Mapping[str, Any] = service.call(operation, params)
        return out

    return call


DATA_API_OPERATIONS = frozenset(
    {
        "ExecuteStatement",
        "BatchExecuteStatement",
        "DescribeStatement",
        "GetStatementResult",
        "GetStatementResultV2",
        "ListSessions",
        "CancelStatement",
        "ListStatements",
        "ListDatabases",
        "ListSchemas",
        "ListTables",
        "DescribeTable",
    }
)
DYNAMODB_OPERATIONS = frozenset(
    {
        "CreateTable",
        "DescribeTable",
        "ListTables",
        "DeleteTable",
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
SNS_OPERATIONS = frozenset(
    {
        "CreateTopic",
        "DeleteTopic",
        "Publish",
        "PublishBatch",
        "Subscribe",
        "Unsubscribe",
        "ListTopics",
        "ListSubscriptionsByTopic",
    }
)

# X-Amz-Target prefix -> API (JSON protocols).
JSON_APIS: dict[str, Api] = {
    "AWSStepFunctions": Api("stepfunctions", frozenset(states.OPERATIONS), _states),
    "RedshiftData": Api(
        "redshift-data", DATA_API_OPERATIONS, _service("redshift-data", lambda app: app.dataapi)
    ),
    "DynamoDB_20120810": Api(
        "dynamodb", DYNAMODB_OPERATIONS, _service("dynamodb", lambda app: app.items)
    ),
}


def _caller_identity(app: App, operation: str, params: dict[str, Any]) -> Mapping[str, Any]:
    """STS GetCallerIdentity, which tools ask before anything else (the AWS CLI's smoke test,
    Terraform's AWS provider): locally every caller is one user of the account in the ARNs."""
    return {
        "UserId": "AIDAELTFLOWLOCALUSER",
        "Account": arns.ACCOUNT,
        "Arn": f"arn:aws:iam::{arns.ACCOUNT}:user/eltflow",
    }


CLOUDFORMATION_OPERATIONS = frozenset(
    {
        "CreateStack",
        "UpdateStack",
        "DeleteStack",
        "DescribeStacks",
        "ListStacks",
        "DescribeStackResources",
        "ListStackResources",
        "DescribeStackEvents",
        "GetTemplate",
        "GetTemplateSummary",
        "ValidateTemplate",
        "ListExports",
        "CreateChangeSet",
        "DescribeChangeSet",
        "ExecuteChangeSet",
        "DeleteChangeSet",
        "ListChangeSets",
    }
)


def _cloudformation(app: App, operation: str, params: dict[str, Any]) -> Mapping[str, Any]:
    """CloudFormation over the app's local stacks (``eltflow stack ...`` sees the same).
    Imported on first use: the stacks package takes a quarter second to load."""
    from eltflow.stacks.wiring import cloudformation_for

    return cloudformation_for(app).call(operation, params)


# SigV4 service name -> API (query protocol).
QUERY_APIS: dict[str, Api] = {
    "cloudformation": Api("cloudformation", CLOUDFORMATION_OPERATIONS, _cloudformation),
    "sns": Api("sns", SNS_OPERATIONS, _service("sns", lambda app: app.topics)),
    "sts": Api("sts", frozenset({"GetCallerIdentity"}), _caller_identity),
}
