"""One call for the composition root: build the DynamoDB, Lambda and SNS services from
settings and register their Task integrations.

    services = register_items_lambda_sns(registry, settings, db, clock)
    # services == {"dynamodb": ..., "lambda": ..., "sns": ...}; close services["lambda"] at exit

Local services live in the state store (migrate ``db`` first). With ``[aws] mode = "aws"``
DynamoDB and SNS go to real AWS through boto3; Lambda handlers always run locally.
"""

from __future__ import annotations

from typing import Any

from eltflow.clock import Clock
from eltflow.config import Settings
from eltflow.integrations import dynamodb, lambda_, sns
from eltflow.integrations.base import Registry
from eltflow.store.db import Database


def register_items_lambda_sns(
    registry: Registry, settings: Settings, db: Database, clock: Clock | None = None
) -> dict[str, Any]:
    from eltflow.aws import aws_mode, boto3_client
    from eltflow.integrations.boto3_service import Boto3Service
    from eltflow.items.config import build_items
    from eltflow.lambdas.runner import build_lambdas
    from eltflow.notify.topics import build_topics

    services: dict[str, Any]
    if aws_mode(settings):
        services = {
            "dynamodb": Boto3Service(boto3_client("dynamodb", settings)),
            "sns": Boto3Service(boto3_client("sns", settings)),
        }
    else:
        services = {
            "dynamodb": build_items(settings, db, clock),
            "sns": build_topics(settings, db, clock),
        }
    services["lambda"] = build_lambdas(settings)
    dynamodb.register(registry, services["dynamodb"])
    sns.register(registry, services["sns"])
    lambda_.register(registry, services["lambda"])
    return services
