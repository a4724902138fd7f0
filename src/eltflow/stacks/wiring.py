"""Stack operations for an app (the composition root's services, store and clock)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eltflow.scheduler.rules import RuleStore
from eltflow.stacks.deploy import Stacks
from eltflow.stacks.records import StackStore
from eltflow.stacks.resources.base import Services
from eltflow.stacks.service import CloudFormationService

if TYPE_CHECKING:
    from eltflow.app import App


def stacks_for(app: App) -> Stacks:
    """Stacks over ``app``'s StatesService and its DynamoDB and SNS services (the store must be
    migrated, which ``build_app`` does)."""
    data_dir = app.settings.data_dir if app.settings is not None else None

    services = Services(
        states=app.service,
        dynamodb=app.items,
        sns=app.topics,
        lambdas=app.lambdas.functions if app.lambdas is not None else None,
        lambda_runner=app.lambdas,
        schedules=app.schedules.store,
        rules=RuleStore(app.db),
        data_dir=data_dir,
        s3_service=app.s3,
        clock=app.clock,
    )
    return Stacks(StackStore(app.db), services, app.clock)


def cloudformation_for(app: App) -> CloudFormationService:
    """The CloudFormation API (AWS request/response dicts) over ``app``'s stacks."""
    return CloudFormationService(stacks_for(app))
