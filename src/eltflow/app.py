"""The composition root: one explicit object holding the database, store, clock, integrations,
engine and service, built from :class:`~eltflow.config.Settings`. Nothing here is global; tests
build as many apps as they like (each worker subprocess builds its own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eltflow.clock import Clock, SystemClock
from eltflow.config import Settings
from eltflow.integrations.base import Registry
from eltflow.pipelines.jobs import JobsService
from eltflow.runtime.engine import Engine
from eltflow.runtime.service import StatesService
from eltflow.runtime.tasks import callable_integration
from eltflow.runtime.worker import Worker
from eltflow.store.db import Database
from eltflow.store.migrate import migrate
from eltflow.store.runtime_store import RuntimeStore
from eltflow.types import JSON


@dataclass
class App:
    db: Database
    store: RuntimeStore
    clock: Clock
    registry: Registry
    engine: Engine
    service: StatesService
    settings: Settings | None = None
    # Runtime-provided services for integrations (data API, item tables, topics...), by name.
    services: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)
    # Audit items + run history; None without a project (no item tables to read).
    jobs: JobsService | None = None

    def register(self, resource: str, fn: Callable[[JSON], JSON]) -> None:
        """Run ``fn(parameters)`` for Task states whose Resource is exactly ``resource``."""
        self.registry.add(resource, callable_integration(fn))

    def worker(self, **options: Any) -> Worker:
        return Worker(self, **options)

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
    engine = Engine(store, clock, crash_after_events=crash_after_events)
    services: dict[str, Any] = {}
    closers: list[Callable[[], None]] = []
    if registry is None:
        if settings is not None:
            registry, services, closers = project_integrations(settings, db, clock)
        else:
            registry = Registry()  # tests register Python callables with App.register
    return App(
        db=db,
        store=store,
        clock=clock,
        registry=registry,
        engine=engine,
        service=StatesService(store, engine, clock),
        settings=settings,
        services=services,
        closers=closers,
        jobs=_jobs(settings, services, clock),
    )


def _jobs(settings: Settings | None, services: dict[str, Any], clock: Clock) -> JobsService | None:
    from eltflow.pipelines.reference import run_history, settings_for

    if settings is None or "dynamodb" not in services:
        return None
    return JobsService(
        dynamodb=services["dynamodb"],
        dataapi=services.get("redshift-data"),
        history=run_history(settings_for(settings)),
        clock=clock,
    )


def project_integrations(
    settings: Settings, db: Database, clock: Clock
) -> tuple[Registry, dict[str, Any], list[Callable[[], None]]]:
    """The integrations of a project, from its eltflow.toml: DynamoDB tables (``[tables.*]``),
    SNS topics, local Lambda handlers (``[lambda]``) and the Redshift Data API
    (``[warehouses.*]``), kept in the same state store (or, with ``[aws] mode = "aws"``,
    DynamoDB and SNS on real AWS). Returns the registry, the services by name, and closers."""
    from eltflow.aws import aws_mode, bind_local
    from eltflow.dataapi.client import LocalRedshiftDataClient
    from eltflow.dataapi.factory import build_dataapi
    from eltflow.integrations import redshift_data

    registry = Registry()
    services = register_items_lambda_sns(registry, settings, db, clock)
    dataapi = build_dataapi(settings, db, clock)
    redshift_data.register(registry, dataapi)
    services["redshift-data"] = dataapi
    local: dict[str, Callable[[], Any]] = {}
    if not aws_mode(settings):
        # In AWS mode handlers must get boto3 from eltflow.aws.client, so nothing is bound.
        from eltflow.items.client import LocalDynamoDBClient
        from eltflow.notify.client import LocalSnsClient

        items, topics = services["dynamodb"], services["sns"]
        local["redshift-data"] = lambda: LocalRedshiftDataClient(dataapi)
        local["dynamodb"] = lambda: LocalDynamoDBClient(items)
        local["sns"] = lambda: LocalSnsClient(topics)
    # Handlers calling eltflow.aws.client(...) reach this app's services while it is open.
    unbind = bind_local(settings.state_url, local)
    return registry, services, [unbind, services["lambda"].close, dataapi.close]


def register_items_lambda_sns(
    registry: Registry, settings: Settings, db: Database, clock: Clock | None = None
) -> dict[str, Any]:
    """Build the DynamoDB, Lambda and SNS services from ``settings`` and register their Task
    integrations; returns them by name (close ``services["lambda"]`` at exit).

    Local services live in the state store (migrate ``db`` first). With ``[aws] mode = "aws"``
    DynamoDB and SNS go to real AWS through boto3; Lambda handlers always run locally. This is
    composition, so it lives here: the integrations themselves never see the store.
    """
    from eltflow.aws import aws_mode, boto3_client
    from eltflow.integrations import dynamodb, lambda_, sns
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
    services["lambda"] = build_lambdas(settings, db)
    dynamodb.register(registry, services["dynamodb"])
    sns.register(registry, services["sns"])
    lambda_.register(registry, services["lambda"])
    return services
