"""Resource providers: one module per resource family, each creating, updating and deleting
through a local service's own API (never its tables). :func:`provider_for` picks one by type."""

from __future__ import annotations

from eltflow.stacks.resources.base import Provider
from eltflow.stacks.resources.custom import CustomProvider, is_custom
from eltflow.stacks.resources.dynamodb import TableProvider
from eltflow.stacks.resources.lambda_ import FunctionProvider
from eltflow.stacks.resources.recorded import RECORDED_TYPES, RecordedProvider
from eltflow.stacks.resources.s3 import BucketProvider
from eltflow.stacks.resources.schedules import RuleProvider, ScheduleProvider
from eltflow.stacks.resources.sns import SubscriptionProvider, TopicProvider
from eltflow.stacks.resources.states import StateMachineProvider
from eltflow.stacks.resources.warehouses import WarehouseProvider

PROVIDERS: dict[str, Provider] = {
    "AWS::StepFunctions::StateMachine": StateMachineProvider(),
    "AWS::DynamoDB::Table": TableProvider(),
    "AWS::SNS::Topic": TopicProvider(),
    "AWS::SNS::Subscription": SubscriptionProvider(),
    "AWS::Lambda::Function": FunctionProvider(),
    "AWS::S3::Bucket": BucketProvider(),
    "AWS::Scheduler::Schedule": ScheduleProvider(),
    "AWS::Events::Rule": RuleProvider(),
    "AWS::Redshift::Cluster": WarehouseProvider("AWS::Redshift::Cluster"),
    "AWS::RedshiftServerless::Workgroup": WarehouseProvider("AWS::RedshiftServerless::Workgroup"),
    "AWS::RedshiftServerless::Namespace": WarehouseProvider("AWS::RedshiftServerless::Namespace"),
}


def provider_for(resource_type: str) -> Provider:
    """The provider for ``resource_type``; types we do not create are recorded (IAM, and
    anything else: AWS accepts them, we note a warning and give them a physical id)."""
    if is_custom(resource_type):
        return CustomProvider()
    return PROVIDERS.get(resource_type) or RecordedProvider(resource_type)


def is_supported(resource_type: str) -> bool:
    """True when a deploy creates ``resource_type`` locally or records it on purpose (IAM,
    Lambda versions and permissions... the recorded table); any other type stops a deploy
    unless ``--skip-unsupported`` records it with a warning."""
    return is_custom(resource_type) or resource_type in PROVIDERS or resource_type in RECORDED_TYPES
