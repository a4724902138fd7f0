"""The composition root: one explicit object holding the database, store, clock, integrations,
engine and every service, built from :class:`~eltflow.config.Settings` in :func:`build_app`
and nowhere else. Nothing here is global; tests build as many apps as they like (each worker
subprocess builds its own), and two apps in one process never see each other's data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eltflow.aws import LocalClients
from eltflow.aws import client as aws_client
from eltflow.clock import Clock, SystemClock
from eltflow.config import Settings
from eltflow.errors import ConfigError
from eltflow.integrations import states as nested_workflows
from eltflow.integrations.base import Registry
from eltflow.pipelines.jobs import JobsService
from eltflow.runtime.activities import Activities
from eltflow.runtime.engine import Engine
from eltflow.runtime.execution_logs import ExecutionLogs
from eltflow.runtime.express import ExpressExecutions
from eltflow.runtime.nested import NestedExecutions
from eltflow.runtime.service import StatesService
from eltflow.runtime.state_runs import StateRuns
from eltflow.runtime.status_events import ExecutionStatusEvents
from eltflow.runtime.tasks import callable_integration
from eltflow.runtime.waiting import WaitingTasks
from eltflow.runtime.worker import Worker
from eltflow.runtime.workers import Workers
from eltflow.scheduler.rules import RuleDispatcher, RuleStore
from eltflow.scheduler.schedules import Schedules
from eltflow.store.activities import ActivityStore
from eltflow.store.db import Database
from eltflow.store.migrate import migrate
from eltflow.store.runtime_store import RuntimeStore
from eltflow.types import JSON, AwsApi

if TYPE_CHECKING:
    from eltflow.dataapi.service import DataApiService
    from eltflow.lambdas.runner import LambdaRunner
    from eltflow.s3.service import S3Service


@dataclass(frozen=True, kw_only=True)
class ProjectServices:
    """The local AWS services of a project (from its eltflow.toml), each None when absent."""

    dataapi: DataApiService | None = None  # Redshift Data API over [warehouses.*]
    local_clients: LocalClients | None = None  # their boto3-shaped clients, by service name
    items: AwsApi | None = None  # DynamoDB: local tables, or real AWS in [aws] mode = "aws"
    topics: AwsApi | None = None  # SNS: local topics, or real AWS
    lambdas: LambdaRunner | None = None  # local Lambda handlers ([lambda.functions])
    s3: S3Service | None = None  # local S3: buckets are folders under .eltflow/s3


@dataclass
class App:
    db: Database
    store: RuntimeStore
    clock: Clock
    registry: Registry
    engine: Engine
    service: StatesService  # the Step Functions API
    schedules: Schedules  # EventBridge-Scheduler-style schedules and the loop that fires them
    workers: Workers  # which workers are running (their heartbeats)
    state_runs: StateRuns  # per-state runs of an execution, folded from its history
    settings: Settings | None = None
    # The project's local AWS services (none without settings: tests register callables).
    dataapi: DataApiService | None = None
    items: AwsApi | None = None
    topics: AwsApi | None = None
    lambdas: LambdaRunner | None = None
    s3: S3Service | None = None  # local S3 (buckets are folders under .eltflow/s3)
    # Audit items + run history; None without a project (no item tables to read).
    jobs: JobsService | None = None
    # boto3-shaped clients of the local services above, bound around each Lambda handler call.
    local_clients: LocalClients | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def register(self, resource: str, fn: Callable[[JSON], JSON]) -> None:
        """Run ``fn(parameters)`` for Task states whose Resource is exactly ``resource``."""
        self.registry.add(resource, callable_integration(fn))

    def client(self, service_name: str) -> Any:
        """A boto3-shaped client of this app's ``service_name`` (``redshift-data``,
        ``dynamodb``, ``sns``): what ``eltflow.aws.client`` gives this app's Lambda handlers
        (real boto3 with ``[aws] mode = "aws"``). Close it when done."""
        if self.settings is None:
            raise ConfigError("App.client needs a project (build_app with settings)")
        if self.local_clients is None:
            return aws_client(service_name, self.settings)
        with self.local_clients.bound():
            return aws_client(service_name, self.settings)

    def worker(self, **options: Any) -> Worker:
        return Worker(self, **options)

    @property
    def waiting_tasks(self) -> WaitingTasks:
        """Tasks of an execution waiting for their token (the console's task-token view)."""
        return WaitingTasks(self.store, self.engine)

    @property
    def execution_logs(self) -> ExecutionLogs:
        """An execution's function logs and Data API statements (``eltflow logs``)."""
        return ExecutionLogs(self.lambdas.logs if self.lambdas is not None else None, self.dataapi)

    @property
    def nested(self) -> NestedExecutions:
        """Parent and child links of nested (``states:startExecution``) executions."""
        return NestedExecutions(self.service, self.state_runs, self.store)

    def close(self) -> None:
        for close in self.closers:
            close()
        self.store.close_listener()
        self.db.close()


def build_app(
    settings: Settings | None = None,
    *,
    state_url: str | None = None,
    clock: Clock | None = None,
    registry: Registry | None = None,
    crash_after_events: int | None = None,
    apply_migrations: bool = True,
) -> App:
    """Open the state store named by ``state_url`` (or ``settings.state_url``), migrate it and
    wire the runtime. ``registry`` defaults to the project's integrations (from ``settings``)
    or, without settings, to an empty registry for :meth:`App.register`."""
    url = state_url or (settings.state_url if settings is not None else None)
    if url is None:
        raise ValueError("build_app needs settings or a state_url")
    db = Database(url)
    if apply_migrations:
        migrate(db)
    store = RuntimeStore(db)
    clock = clock or SystemClock()
    # Step Functions' EventBridge events, for the rules with an event pattern (wired below).
    status_events = ExecutionStatusEvents(store)
    engine = Engine(
        store, clock, crash_after_events=crash_after_events, on_events=status_events.observe
    )
    services = ProjectServices()
    closers: list[Callable[[], None]] = []
    if registry is None:
        if settings is not None:
            registry, services, closers = project_integrations(settings, db, clock)
        else:
            registry = Registry()  # tests register Python callables with App.register
    # EXPRESS machines run in memory with the same integrations (runtime/express.py).
    express = ExpressExecutions(registry, clock, s3=services.s3)
    service = StatesService(
        store,
        engine,
        clock,
        activities=Activities(ActivityStore(db), engine, clock),
        express=express,
    )
    nested_workflows.register(registry, service)  # states:startExecution needs the service
    _deliver_rule_events(status_events, db, service, services.lambdas, services.dataapi)
    closers.insert(0, status_events.close)
    closers.insert(0, express.close)  # asynchronous Express executions end before the rest
    declared = settings.section("schedules") if settings is not None else None
    return App(
        db=db,
        store=store,
        clock=clock,
        registry=registry,
        engine=engine,
        service=service,
        schedules=Schedules(db, service, clock, declared),
        workers=Workers(store, clock),
        state_runs=StateRuns(service),
        settings=settings,
        dataapi=services.dataapi,
        items=services.items,
        topics=services.topics,
        lambdas=services.lambdas,
        s3=services.s3,
        jobs=_jobs(settings, services, clock),
        local_clients=services.local_clients,
        closers=closers,
    )


def _deliver_rule_events(
    status_events: ExecutionStatusEvents,
    db: Database,
    service: StatesService,
    lambdas: LambdaRunner | None,
    dataapi: DataApiService | None,
) -> None:
    """EventBridge rules with an event pattern get the execution status events and the Data
    API's statement events: a matching rule starts its state machine targets and invokes its
    Lambda targets (asynchronously)."""

    def start(arn: str, text: str) -> object:
        return service.start_execution(state_machine_arn=arn, input=text)

    dispatcher = RuleDispatcher(
        RuleStore(db),
        start,
        lambdas.submit if lambdas is not None else None,
        region=status_events.region,
        account=status_events.account,
    )
    status_events.subscribe(dispatcher, dispatcher.interested, dispatcher.known_interest)
    if dataapi is not None:
        # The Data API's "Redshift Data Statement Status Change" (WithEvent) to the same rules.
        dataapi.region, dataapi.account = status_events.region, status_events.account
        dataapi.subscribe_events(dispatcher, dispatcher.interested)


def _jobs(settings: Settings | None, services: ProjectServices, clock: Clock) -> JobsService | None:
    from eltflow.pipelines.reference import run_history, settings_for

    if settings is None or services.items is None:
        return None
    return JobsService(
        dynamodb=services.items,
        dataapi=services.dataapi,
        history=run_history(settings_for(settings)),
        clock=clock,
    )


def project_integrations(
    settings: Settings, db: Database, clock: Clock
) -> tuple[Registry, ProjectServices, list[Callable[[], None]]]:
    """The integrations of a project, from its eltflow.toml: DynamoDB tables (``[tables.*]``),
    SNS topics, local Lambda handlers (``[lambda]``) and the Redshift Data API
    (``[warehouses.*]``), kept in the same state store (or, with ``[aws] mode = "aws"``,
    DynamoDB and SNS on real AWS). Returns the registry, the services, and closers.

    This is composition, so it lives here: the integrations themselves never see the store.
    """
    from eltflow.aws import aws_mode, boto3_client
    from eltflow.dataapi.client import LocalRedshiftDataClient
    from eltflow.dataapi.factory import build_dataapi
    from eltflow.integrations import dynamodb, lambda_, redshift_data, s3, sns
    from eltflow.integrations.boto3_service import Boto3Service
    from eltflow.items.client import LocalDynamoDBClient
    from eltflow.items.config import build_items
    from eltflow.lambdas.runner import build_lambdas
    from eltflow.notify.client import LocalSnsClient
    from eltflow.notify.topics import build_topics
    from eltflow.s3.service import S3Service
    from eltflow.s3.warehouse import WarehouseObjects

    # Local buckets: one service for the endpoint, the aws-sdk:s3 tasks and the warehouses'
    # COPY/UNLOAD (.eltflow/s3).
    local_s3 = S3Service(settings.s3_root)
    dataapi = build_dataapi(settings, db, clock, WarehouseObjects(local_s3))
    items: AwsApi
    topics: AwsApi
    local: dict[str, Callable[[], Any]] = {}
    if aws_mode(settings):
        # Handlers get real boto3 from eltflow.aws.client, so no local client is bound.
        items = Boto3Service(boto3_client("dynamodb", settings))
        topics = Boto3Service(boto3_client("sns", settings))
    else:
        local_items = build_items(settings, db, clock)
        local_topics = build_topics(settings, db, clock)
        items, topics = local_items, local_topics
        local["redshift-data"] = lambda: LocalRedshiftDataClient(dataapi)
        local["dynamodb"] = lambda: LocalDynamoDBClient(local_items)
        local["sns"] = lambda: LocalSnsClient(local_topics)
    # A handler calling eltflow.aws.client(...) during one of this app's invocations reaches
    # this app's services (bound per invocation, never process-wide).
    clients = LocalClients(settings.state_url, local)
    lambdas = build_lambdas(settings, db, scope=clients.bound)
    registry = Registry()
    dynamodb.register(registry, items)
    sns.register(registry, topics)
    lambda_.register(registry, lambdas)
    redshift_data.register(registry, dataapi)
    if not aws_mode(settings):
        s3.register(registry, local_s3)
    services = ProjectServices(
        dataapi=dataapi,
        local_clients=clients,
        items=items,
        topics=topics,
        lambdas=lambdas,
        s3=local_s3,
    )
    return registry, services, [lambdas.close, dataapi.close]
