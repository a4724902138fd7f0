"""Invoke local Lambda handlers: resolve the name, run the handler with a context, and turn its
outcome into what AWS Lambda returns (a JSON payload, or an error payload with
``errorMessage``/``errorType``/``requestId``/``stackTrace``).

Handlers run in a thread pool, or with ``isolation = "process"`` in a pool of spawned
subprocesses (a handler that crashes or hangs cannot take the worker down; a timed-out process
pool is killed and replaced). A handler that outlives its function timeout yields AWS's
``Sandbox.Timedout`` error; one that outlives the caller's deadline raises
:class:`InvocationTimeout` (the Task's ``States.Timeout``).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import hashlib
import importlib
import importlib.util
import json
import multiprocessing
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eltflow.config import Settings
from eltflow.errors import AwsApiError, EltflowError
from eltflow.lambdas.config import FunctionSpec, LambdaSettings, parse_function_name
from eltflow.lambdas.context import LambdaContext
from eltflow.lambdas.functions import FunctionStore
from eltflow.lambdas.logs import FunctionLogs, captured
from eltflow.store.db import Database
from eltflow.types import JSON

Scope = Callable[[], AbstractContextManager[object]]
"""Entered around a handler call: ``with scope(): handler(event, context)``."""


# A process-isolated handler's AWS calls carry its invocation's request id in this header, so
# the endpoint that serves them can act in the invoking caller's context (a Data API statement
# then records the execution and state whose task ran the handler, as under thread isolation).
INVOCATION_HEADER = "X-Eltflow-Invocation"
_INVOCATION_VARIABLE = "ELTFLOW_INVOCATION_ID"


class InvocationTimeout(EltflowError):
    """The caller's deadline passed before the handler returned."""


@dataclass(frozen=True)
class Invocation:
    request_id: str
    function_arn: str
    payload: JSON
    error: dict[str, Any] | None = None  # AWS's error payload when the function failed
    log: str = ""  # what the handler printed and logged (see eltflow.lambdas.logs)

    @property
    def function_error(self) -> str | None:
        return None if self.error is None else "Unhandled"


def _code_module(code_dir: str, module_path: str, environment: dict[str, str]) -> Any:
    """The module ``module_path`` (``index``, ``pkg.app``) of a function's own code folder,
    loaded once per process under a name of its own (every inline function's file is
    ``index.py``). The environment is set before the module runs, since handlers often read it
    at import. Threads share one process environment (use ``isolation = "process"`` when
    functions give one variable different values).

    While the module runs, its folder is first on ``sys.path`` (Lambda's ``/var/task``) and
    any module already imported under the name of one of the folder's own files is set aside,
    so two functions that each ship a ``util.py`` import their own; what the folder's files
    imported is then taken out of ``sys.modules`` again (the function keeps its references).
    An import run later, inside a handler call, finds the folder at the end of ``sys.path``
    instead, where another function's module of the same name may win: import at module
    level, as Lambda's own guidance recommends for cold-start reasons anyway."""
    if environment:
        os.environ.update(environment)
    key = f"{code_dir}:{module_path}"
    with _CODE_LOCK:
        module = _CODE_MODULES.get(key)
        if module is not None:
            return module
        file = Path(code_dir, *module_path.split(".")).with_suffix(".py")
        if not file.is_file():
            raise ImportError(f"No module named '{module_path}'")
        unique = "eltflow_fn_" + hashlib.sha256(key.encode()).hexdigest()[:16]
        spec = importlib.util.spec_from_file_location(unique, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        own_names = _top_level_names(Path(code_dir))
        set_aside = {
            name: sys.modules.pop(name)
            for name in list(sys.modules)
            if name.split(".")[0] in own_names
        }
        sys.path.insert(0, code_dir)
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(code_dir)
            for name in list(sys.modules):
                if name.split(".")[0] in own_names:
                    del sys.modules[name]
            sys.modules.update(set_aside)
            if code_dir not in sys.path:
                sys.path.append(code_dir)
        _CODE_MODULES[key] = module
        return module


def _top_level_names(folder: Path) -> set[str]:
    """The importable names a code folder defines: its ``*.py`` files and packages."""
    names = {p.stem for p in folder.glob("*.py")}
    names |= {p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    return names


def _extend_path(folders: tuple[str, ...]) -> None:
    # Appended, not prepended: a project file named like a library (json.py) must not shadow
    # it for eltflow itself, which shares this interpreter under thread isolation.
    with _CODE_LOCK:
        for folder in folders:
            if folder not in sys.path:
                sys.path.append(folder)


_CODE_MODULES: dict[str, Any] = {}
# Modules Lambda's Python runtime gives every function (cfnresponse for inline CloudFormation
# code); appended to the handlers' path, so a function's own copy wins.
PROVIDED = Path(__file__).resolve().parent / "provided"
_CODE_LOCK = threading.Lock()


def run_handler(
    handler: str,
    event: JSON,
    context_fields: dict[str, Any],
    code: tuple[str, dict[str, str]] | None = None,
    search_path: tuple[str, ...] = (),
    environment: dict[str, str] | None = None,
) -> tuple[str, JSON, str]:
    """:func:`_run_handler` with what the handler printed and logged: (status, result, log)."""
    with captured() as buf:
        status, result = _run_handler(
            handler, event, context_fields, code, search_path, environment
        )
    return status, result, "".join(buf)


def _run_handler(
    handler: str,
    event: JSON,
    context_fields: dict[str, Any],
    code: tuple[str, dict[str, str]] | None = None,
    search_path: tuple[str, ...] = (),
    environment: dict[str, str] | None = None,
) -> tuple[str, JSON]:
    """Run one handler (in a thread or a subprocess). Returns ("ok", result) or ("error",
    AWS error payload). Module-level so a process pool can pickle it. ``code``: a recorded
    function's (code folder, environment); its handler is ``file.function``. ``search_path``:
    folders a config function's module is looked for in (the project folder); ``environment``:
    a module-style function's variables, set before its module is imported."""
    if code is None:
        module_name, func_name = handler.split(":")
    else:
        module_name, _, func_name = handler.rpartition(".")
    request_id = context_fields["aws_request_id"]
    try:
        _extend_path((str(PROVIDED),))
        if code is None:
            if environment:
                os.environ.update(environment)
            _extend_path(search_path)
            func = getattr(importlib.import_module(module_name), func_name)
        else:
            func = getattr(_code_module(code[0], module_name, code[1]), func_name)
    except (ImportError, AttributeError) as e:
        return "error", {
            "errorMessage": f"Unable to import module '{module_name}': {e}"
            if isinstance(e, ImportError)
            else f"Handler '{func_name}' missing on module '{module_name}'",
            "errorType": "Runtime.ImportModuleError"
            if isinstance(e, ImportError)
            else "Runtime.HandlerNotFound",
            "requestId": request_id,
            "stackTrace": [],
        }
    except (
        Exception
    ) as e:  # the module itself raised while loading (AWS: Runtime.UserCodeSyntaxError...)
        return "error", {
            "errorMessage": f"Unable to import module '{module_name}': {e}",
            "errorType": "Runtime.UserCodeSyntaxError"
            if isinstance(e, SyntaxError)
            else "Runtime.ImportModuleError",
            "requestId": request_id,
            "stackTrace": [],
        }
    fields = dict(context_fields)
    remaining = fields.pop("remaining", None)
    # The deadline is set here, on this process's monotonic clock.
    fields["deadline"] = None if remaining is None else time.monotonic() + remaining
    context = LambdaContext(**fields)
    try:
        result = func(event, context)
    except Exception as e:
        # Drop this runner's own frame: AWS shows only the handler's frames.
        frames = traceback.extract_tb(e.__traceback__)[1:]
        return "error", {
            "errorMessage": str(e),
            "errorType": type(e).__name__,
            "requestId": request_id,
            "stackTrace": traceback.format_list(frames),
        }
    try:
        return "ok", json.loads(json.dumps(result))
    except (TypeError, ValueError) as e:
        return "error", {
            "errorMessage": f"Unable to marshal response: {e}",
            "errorType": "Runtime.MarshalError",
            "requestId": request_id,
            "stackTrace": [],
        }


class LambdaRunner:
    """The local Lambda service: ``invoke(function_name, payload)``."""

    def __init__(
        self,
        settings: LambdaSettings,
        functions: FunctionStore | None = None,
        scope: Scope | None = None,
    ) -> None:
        self.settings = settings
        self.functions = functions  # functions recorded in the store (created by stacks)
        # Entered around each handler call run in this process (thread isolation): the
        # composition root binds the app's local AWS clients there, per invocation.
        self._scope = scope
        self._lock = threading.Lock()
        self._pool: cf.Executor | None = None
        self._environment: dict[str, str] = {}
        # Where invocations made for a Task record their output (None: not kept).
        self.logs: FunctionLogs | None = None
        # Process isolation: the caller's context per running invocation (request id), for
        # the endpoint serving that handler's own AWS calls (see context_of).
        self._origins: dict[str, contextvars.Context] = {}

    def context_of(self, request_id: str) -> contextvars.Context | None:
        """The context of the caller of a running process-isolated invocation (a copy of it,
        so concurrent calls each enter their own), or None once it has ended."""
        with self._lock:
            origin = self._origins.get(request_id)
        return None if origin is None else origin.copy()

    def set_handler_environment(self, environment: dict[str, str]) -> None:
        """Environment variables for handler processes (``isolation = "process"``), set before
        any handler module is imported: ``eltflow serve`` puts ``AWS_ENDPOINT_URL`` and dummy
        credentials here so unmodified boto3 in a handler reaches the local endpoint, as a
        Lambda sandbox's environment would. Thread isolation shares the server's own
        environment, which is left alone (eltflow's own boto3 clients read it too)."""
        with self._lock:
            self._environment = dict(environment)
        self._reset_pool()  # the next invocation starts processes with it

    def _executor(self) -> cf.Executor:
        with self._lock:
            if self._pool is None:
                if self.settings.isolation == "process":
                    self._pool = cf.ProcessPoolExecutor(
                        max_workers=self.settings.workers,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_set_environment,
                        initargs=(dict(self._environment),),
                    )
                else:
                    self._pool = cf.ThreadPoolExecutor(
                        max_workers=self.settings.workers, thread_name_prefix="lambda"
                    )
            return self._pool

    def function(self, function_name: str) -> FunctionSpec:
        name, _qualifier = parse_function_name(function_name)
        spec = self.settings.functions.get(name)
        if spec is None and self.functions is not None:
            spec = self.functions.get(name)
        if spec is None:
            arn = f"arn:aws:lambda:{self.settings.region}:{self.settings.account}:function:{name}"
            raise AwsApiError("ResourceNotFoundException", f"Function not found: {arn}")
        return spec

    def invoke(
        self, function_name: str, payload: JSON, deadline_seconds: float | None = None
    ) -> Invocation:
        """Run the function; ``deadline_seconds`` is the caller's remaining time."""
        spec = self.function(function_name)
        arn = spec.arn(self.settings.region, self.settings.account)
        rid = str(uuid.uuid4())
        limits = [t for t in (spec.timeout_seconds, deadline_seconds) if t is not None]
        wait = min(limits) if limits else None
        fields = {
            "function_name": spec.name,
            "invoked_function_arn": arn,
            "aws_request_id": rid,
            "memory_limit_in_mb": spec.memory_mb,
            "remaining": wait,
        }
        future = self._submit(spec.handler, payload, fields, _code(spec), dict(spec.environment))
        try:
            status, result, log = future.result(timeout=wait)
        except cf.TimeoutError:
            future.cancel()
            self._abandon(future)
            if deadline_seconds is not None and (
                spec.timeout_seconds is None or deadline_seconds <= spec.timeout_seconds
            ):
                raise InvocationTimeout(
                    f"{spec.name} did not finish within {deadline_seconds:.2f} seconds"
                ) from None
            timeout = spec.timeout_seconds or 0.0
            return Invocation(
                rid,
                arn,
                None,
                {
                    "errorMessage": f"RequestId: {rid} Error: Task timed out after "
                    f"{timeout:.2f} seconds",
                    "errorType": "Sandbox.Timedout",
                },
            )
        except cf.process.BrokenProcessPool as e:
            self._reset_pool()
            return Invocation(
                rid,
                arn,
                None,
                {
                    "errorMessage": f"RequestId: {rid} Error: Runtime exited: {e}",
                    "errorType": "Runtime.ExitError",
                },
            )
        if status == "error":
            assert isinstance(result, dict)
            return Invocation(rid, arn, None, dict(result), log)
        return Invocation(rid, arn, result, log=log)

    def submit(self, function_name: str, payload: JSON) -> str:
        """``InvocationType=Event``: queue the invocation and return its request id at once
        (the outcome is not reported back, as with AWS's asynchronous invocations)."""
        spec = self.function(function_name)
        rid = str(uuid.uuid4())
        fields = {
            "function_name": spec.name,
            "invoked_function_arn": spec.arn(self.settings.region, self.settings.account),
            "aws_request_id": rid,
            "memory_limit_in_mb": spec.memory_mb,
            "remaining": spec.timeout_seconds,
        }
        self._submit(spec.handler, payload, fields, _code(spec), dict(spec.environment))
        return rid

    def _submit(
        self,
        handler: str,
        payload: JSON,
        fields: dict[str, Any],
        code: tuple[str, dict[str, str]] | None,
        environment: dict[str, str],
    ) -> cf.Future[tuple[str, JSON, str]]:
        executor = self._executor()
        if self.settings.isolation == "process":
            # A handler process has its own globals: it reaches services through its
            # environment (AWS_ENDPOINT_URL under ``eltflow serve``) or its own eltflow.toml,
            # tagging its calls with the request id this caller's context is kept under.
            rid = str(fields["aws_request_id"])
            with self._lock:
                self._origins[rid] = contextvars.copy_context()
            future = executor.submit(
                _run_in_process,
                handler,
                payload,
                fields,
                code,
                self.settings.search_path,
                environment,
            )
            future.add_done_callback(lambda _: self._forget(rid))
            return future
        if self._scope is None:
            return executor.submit(
                run_handler,
                handler,
                payload,
                fields,
                code,
                self.settings.search_path,
                environment,
            )
        # In a copy of the caller's context, as asyncio.to_thread runs a function: what the
        # caller set for its own work (the execution a Data API statement is submitted for)
        # holds inside the handler too.
        return executor.submit(
            contextvars.copy_context().run,
            _run_scoped,
            self._scope,
            handler,
            payload,
            fields,
            code,
            self.settings.search_path,
            environment,
        )

    def _forget(self, request_id: str) -> None:
        with self._lock:
            self._origins.pop(request_id, None)

    def _abandon(self, future: cf.Future[Any]) -> None:
        """A timed-out handler: threads cannot be stopped (the result is ignored); a process
        pool is killed and replaced so the hung handler does not hold a worker forever."""
        if self.settings.isolation == "process":
            self._reset_pool(kill=True)

    def _reset_pool(self, kill: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if isinstance(pool, cf.ProcessPoolExecutor):
            if kill:
                # ProcessPoolExecutor has no public kill; its worker processes are in _processes.
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.kill()
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _run_scoped(
    scope: Scope,
    handler: str,
    event: JSON,
    context_fields: dict[str, Any],
    code: tuple[str, dict[str, str]] | None,
    search_path: tuple[str, ...] = (),
    environment: dict[str, str] | None = None,
) -> tuple[str, JSON, str]:
    with scope():
        return run_handler(handler, event, context_fields, code, search_path, environment)


def _set_environment(environment: dict[str, str]) -> None:
    """A handler process's initializer (module-level so spawn can pickle it): its environment,
    and boto3's default session set to tag each request with the running invocation (before
    any handler module makes its clients, so module-level clients are tagged too)."""
    os.environ.update(environment)
    try:
        import boto3
    except ImportError:  # pragma: no cover - boto3 is a dependency; a handler may not need it
        return
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-send", _tag_request)


def _tag_request(request: Any, **_: Any) -> None:
    """botocore ``before-send``: the running invocation's request id as a header (after
    signing: the endpoint verifies no signature), on requests to eltflow's endpoint only
    (``AWS_ENDPOINT_URL``), never to AWS. Returns None, so the request is sent."""
    rid = os.environ.get(_INVOCATION_VARIABLE)
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").rstrip("/")
    if rid and endpoint and str(request.url).startswith(endpoint):
        request.headers[INVOCATION_HEADER] = rid


def _run_in_process(
    handler: str,
    event: JSON,
    context_fields: dict[str, Any],
    code: tuple[str, dict[str, str]] | None,
    search_path: tuple[str, ...] = (),
    environment: dict[str, str] | None = None,
) -> tuple[str, JSON, str]:
    """:func:`run_handler` in a handler process, its request id in the environment while it
    runs (one invocation at a time per process) for :func:`_tag_request`."""
    os.environ[_INVOCATION_VARIABLE] = str(context_fields["aws_request_id"])
    try:
        return run_handler(handler, event, context_fields, code, search_path, environment)
    finally:
        os.environ.pop(_INVOCATION_VARIABLE, None)


def _code(spec: FunctionSpec) -> tuple[str, dict[str, str]] | None:
    if spec.code_dir is None:
        return None
    environment = {
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "LAMBDA_TASK_ROOT": spec.code_dir,
        **spec.environment,
    }
    return spec.code_dir, environment


def build_lambdas(
    settings: Settings, db: Database | None = None, scope: Scope | None = None
) -> LambdaRunner:
    """The local Lambda service from ``[lambda]`` in eltflow.toml (for the composition root);
    with ``db`` (migrated), functions recorded in the store are found too; ``scope`` is
    entered around each handler call (see :class:`LambdaRunner`)."""
    from eltflow.lambdas.config import lambda_settings

    functions = FunctionStore(db) if db is not None else None
    runner = LambdaRunner(lambda_settings(settings), functions, scope)
    runner.logs = FunctionLogs(settings.data_dir / "logs")
    return runner
