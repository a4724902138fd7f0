"""The Step Functions service API in AWS's vocabulary: state machines and executions.

Methods take Python keyword arguments and return dicts shaped like AWS's JSON responses
(``executionArn``, ``startDate``...), so the CLI's ``--json`` and the HTTP API print them as is.
Dates are ISO-8601 strings. Errors are :class:`~eltflow.errors.AwsApiError` with AWS's codes
(``StateMachineDoesNotExist``, ``ExecutionAlreadyExists``, ...) or
:class:`~eltflow.errors.DefinitionError` for a definition AWS would reject.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from typing import Any

from eltflow.asl.express import express_diagnostics
from eltflow.asl.limits import MAX_HISTORY_EVENTS, MAX_PAYLOAD_BYTES
from eltflow.clock import Clock
from eltflow.errors import AwsApiError, DefinitionError, StoreError
from eltflow.interpreter.context import task_token, token_task
from eltflow.interpreter.protocol import (
    ExecutionContext,
    StopRequested,
    TaskFailed,
    TaskHeartbeat,
    TaskSucceeded,
)
from eltflow.runtime import arns, map_run_api
from eltflow.runtime.activities import Activities
from eltflow.runtime.engine import MAX_STEP_ATTEMPTS, Engine
from eltflow.runtime.express import ExpressExecutions, ExpressRequest
from eltflow.runtime.machines import insert_machine_txn, parse_definition
from eltflow.runtime.paging import (
    described,
    execution_item,
    iso,
    page_offset,
    page_token,
    redrive_filtered,
)
from eltflow.runtime.payload import execution_input, parse_payload
from eltflow.store.interface import StateStore
from eltflow.store.rows import ExecutionRow, MachineRow, from_us, to_us
from eltflow.store.runtime_store import dumps
from eltflow.types import JSON, JSONObject

CLOSED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
STATUSES = ("RUNNING", *CLOSED)
TYPES = ("STANDARD", "EXPRESS")
TYPE_NOT_SUPPORTED = "This operation is not supported by this type of state machine"
"""StateMachineTypeNotSupported's message (AWS's wording as other emulators quote it;
unverified)."""


def _check_definition(text: str, machine_type: str) -> None:
    """``DefinitionError`` with every diagnostic AWS gives for ``text`` as a ``machine_type``
    machine: the language's rules, then Express's (no .sync, callbacks or activities)."""
    parse_definition(text)
    if machine_type == "EXPRESS":
        found = express_diagnostics(json.loads(text))
        if found:
            raise DefinitionError(found)


class StatesService:
    def __init__(
        self,
        store: StateStore,
        engine: Engine,
        clock: Clock,
        *,
        activities: Activities | None = None,
        express: ExpressExecutions | None = None,
    ) -> None:
        self.store = store
        self.engine = engine
        self.clock = clock
        self._activities = activities
        self._express = express

    @property
    def express(self) -> ExpressExecutions:
        """Where EXPRESS machines run (:mod:`~eltflow.runtime.express`): an app's service has
        it (``build_app``), a bare service does not."""
        if self._express is None:
            raise AwsApiError(
                "StateMachineTypeNotSupported", "Express executions need an app (build_app)"
            )
        return self._express

    @property
    def activities(self) -> Activities:
        """CreateActivity, GetActivityTask...: a durable store's (not ``eltflow.execute``'s)."""
        if self._activities is None:
            raise AwsApiError("UnknownOperationException", "Activities need a state store")
        return self._activities

    # -- state machines --------------------------------------------------------------------
    def create_state_machine(
        self,
        *,
        name: str,
        definition: str | Mapping[str, Any],
        role_arn: str = arns.DEFAULT_ROLE_ARN,
        type: str = "STANDARD",
    ) -> JSONObject:
        arns.validate_name(name, "state machine name")
        if type not in TYPES:
            raise AwsApiError(
                "ValidationException",
                f"1 validation error detected: Value '{type}' at 'type' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{', '.join(TYPES)}]",
            )
        text = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
        _check_definition(text, type)  # DefinitionError with every diagnostic
        now_us = to_us(self.clock.now())
        with self.store.transaction() as conn:
            existing = self.store.get_machine_txn(conn, name)
            if existing is not None:
                current = self.store.get_version_txn(conn, existing.current_version_id)
                # AWS: creating an identical machine again is idempotent.
                if (
                    current is not None
                    and current.definition == text
                    and existing.role_arn == role_arn
                    and existing.machine_type == type
                ):
                    return {
                        "stateMachineArn": existing.arn,
                        "creationDate": iso(existing.created_us),
                        "stateMachineVersionArn": arns.version_arn(name, current.version),
                    }
                raise AwsApiError(
                    "StateMachineAlreadyExists",
                    f"State Machine Already Exists: '{arns.machine_arn(name)}'",
                )
            vid = self.store.insert_version_txn(
                conn,
                machine_name=name,
                version=1,
                definition=text,
                description="",
                created_us=now_us,
            )
            insert_machine_txn(
                self.store,
                conn,
                name=name,
                arn=arns.machine_arn(name),
                version_id=vid,
                role_arn=role_arn,
                machine_type=type,
                now_us=now_us,
            )
        return {
            "stateMachineArn": arns.machine_arn(name),
            "creationDate": iso(now_us),
            "stateMachineVersionArn": arns.version_arn(name, 1),
        }

    def update_state_machine(
        self,
        *,
        state_machine_arn: str,
        definition: str | Mapping[str, Any] | None = None,
        role_arn: str | None = None,
    ) -> JSONObject:
        """Publish a new version; running executions keep the version they started with."""
        name = arns.machine_name(state_machine_arn)
        now_us = to_us(self.clock.now())
        with self.store.transaction() as conn:
            machine = self._machine_txn(conn, name)
            current = self.store.get_version_txn(conn, machine.current_version_id)
            assert current is not None
            if definition is None:
                text = current.definition
            else:
                text = (
                    definition if isinstance(definition, str) else json.dumps(definition, indent=2)
                )
                _check_definition(text, machine.machine_type)
            version = current.version + 1
            vid = self.store.insert_version_txn(
                conn,
                machine_name=name,
                version=version,
                definition=text,
                description="",
                created_us=now_us,
            )
            self.store.update_machine_txn(
                conn,
                name=name,
                current_version_id=vid,
                role_arn=role_arn or machine.role_arn,
                now_us=now_us,
            )
        self.engine.machines.forget(name)  # a start would find it changed: one evaluation less
        return {
            "updateDate": iso(now_us),
            "stateMachineVersionArn": arns.version_arn(name, version),
        }

    def describe_state_machine(self, *, state_machine_arn: str) -> JSONObject:
        name = arns.machine_name(state_machine_arn)
        with self.store.transaction() as conn:
            machine = self._machine_txn(conn, name)
            version = self.store.get_version_txn(conn, machine.current_version_id)
        assert version is not None
        return {
            "stateMachineArn": machine.arn,
            "name": machine.name,
            "status": "ACTIVE",
            "definition": version.definition,
            "roleArn": machine.role_arn,
            "type": machine.machine_type,
            "creationDate": iso(machine.created_us),
            "updateDate": iso(machine.updated_us),
            "revisionId": str(version.id),
            "stateMachineVersionArn": arns.version_arn(machine.name, version.version),
        }

    def list_state_machines(
        self, *, max_results: int = 100, next_token: str | None = None
    ) -> JSONObject:
        after = ""
        if next_token:
            try:
                after = base64.urlsafe_b64decode(next_token.encode()).decode()
            except (ValueError, UnicodeDecodeError) as e:
                raise AwsApiError("InvalidToken", f"Invalid nextToken: {next_token!r}") from e
        rows = self.store.list_machines(after=after, limit=max_results + 1)
        out: JSONObject = {
            "stateMachines": [
                {
                    "stateMachineArn": m.arn,
                    "name": m.name,
                    "type": m.machine_type,
                    "creationDate": iso(m.created_us),
                }
                for m in rows[:max_results]
                # A Distributed Map's MACHINE/LABEL machine is not listed (AWS lists only the
                # machines created; a name can't hold "/"). The page may hold fewer then.
                if "/" not in m.name
            ]
        }
        if len(rows) > max_results:
            out["nextToken"] = base64.urlsafe_b64encode(
                rows[max_results - 1].name.encode()
            ).decode()
        return out

    def delete_state_machine(self, *, state_machine_arn: str) -> JSONObject:
        # AWS: deleting is idempotent; running executions keep their (recorded) version.
        name = arns.machine_name(state_machine_arn)
        self.store.delete_machine(name, now_us=to_us(self.clock.now()))
        self.engine.machines.forget(name)
        return {}

    def list_state_machine_versions(
        self, *, state_machine_arn: str, max_results: int = 100, next_token: str | None = None
    ) -> JSONObject:
        name = arns.machine_name(state_machine_arn)
        machine = self.store.get_machine(name)
        if machine is None:
            raise AwsApiError(
                "StateMachineDoesNotExist",
                f"State Machine Does Not Exist: '{arns.machine_arn(name)}'",
            )
        before = page_offset(next_token) or 2**62
        rows = self.store.list_versions(name, before_version=before, limit=max_results + 1)
        out: JSONObject = {
            "stateMachineVersions": [
                {
                    "stateMachineVersionArn": arns.version_arn(name, v.version),
                    "creationDate": iso(v.created_us),
                }
                for v in rows[:max_results]
            ]
        }
        if len(rows) > max_results:
            out["nextToken"] = page_token(rows[max_results - 1].version)
        return out

    def describe_state_machine_for_execution(self, *, execution_arn: str) -> JSONObject:
        """The definition the execution runs: its recorded version, not the current one."""
        row = self._execution(execution_arn)
        version = self.store.get_version(row.version_id)
        assert version is not None  # referenced by a foreign key
        machine = self.store.get_machine(row.machine_name)
        out: JSONObject = {
            "stateMachineArn": arns.machine_arn(row.machine_name),
            "name": row.machine_name,
            "definition": version.definition,
            "roleArn": machine.role_arn if machine is not None else arns.DEFAULT_ROLE_ARN,
            "updateDate": iso(version.created_us),
            "revisionId": str(version.id),
            "stateMachineVersionArn": arns.version_arn(row.machine_name, version.version),
        }
        link = self.store.map_runs.link(row.id)
        if link is not None and link.map_run_arn is not None:
            # A Distributed Map's child: its Map Run and the Map state's label (AWS's fields).
            out["mapRunArn"] = link.map_run_arn
            out["label"] = arns.parse_map_run_arn(link.map_run_arn)[1]
        return out

    # -- executions ------------------------------------------------------------------------
    def start_execution(
        self, *, state_machine_arn: str, input: str | None = None, name: str | None = None
    ) -> JSONObject:
        """StartExecution. On an EXPRESS machine the execution runs asynchronously in this
        process, unrecorded (:meth:`ExpressExecutions.start`: at most once, where AWS runs
        asynchronous Express workflows at least once)."""
        machine_name = arns.machine_name(state_machine_arn)
        exec_name = arns.validate_name(name, "execution name") if name else str(uuid.uuid4())
        text, value = execution_input(input)
        arn = arns.execution_arn(machine_name, exec_name)
        # Evaluate, then write (see eltflow.runtime.engine): the first step runs the first
        # states' expressions, so it is decided with no transaction open and recorded in one
        # that checks the machine still is the row it was decided with. That row is the one
        # the engine remembers from an earlier start when it has one (no read before the
        # evaluation), else read; a stale one fails the check and the start is decided again.
        machines = self.engine.machines
        for _ in range(MAX_STEP_ATTEMPTS):
            now = self.clock.now()
            known = machines.current(machine_name)
            if known is None:
                with self.store.read_transaction() as conn:
                    machine = self._machine_txn(conn, machine_name)
                    if machine.machine_type == "EXPRESS":
                        request = self._express_request_txn(conn, machine, name, text, value)
                        return self.express.start(request)
                    parsed = machines.get_txn(conn, machine.current_version_id)
                machines.remember(machine)
            else:
                machine, parsed = known
            context = ExecutionContext(
                execution_arn=arn,
                execution_name=exec_name,
                state_machine_arn=machine.arn,
                state_machine_name=machine_name,
                start_time=now,
                role_arn=machine.role_arn,
                # Random and UUID functions replay per execution ARN: the same (machine, name)
                # gives the same draws, in memory and durably.
                seed=arn,
            )
            first = self.engine.first_step(
                ExecutionRow.started(
                    id=uuid.uuid4().hex,
                    arn=arn,
                    machine_name=machine_name,
                    version_id=machine.current_version_id,
                    name=exec_name,
                    input=text,
                    start_us=to_us(now),
                ),
                self.engine.begin(parsed, value, context, now),
            )
            # A first step that only started tasks and timers is written by the store on its
            # own (PostgreSQL: one statement, no BEGIN and COMMIT; concurrent callers' starts
            # committed together); any other (it cancelled some) in a transaction.
            inserted = self.engine.insert_first(first, machine)
            if inserted is None:
                with self.store.transaction() as conn:
                    inserted = self.store.insert_started_execution_txn(conn, first.row, machine)
                    if inserted:
                        self.engine.record_first_txn(conn, first)
            if not inserted:
                # Not inserted: the machine changed, or the name is taken (checked in that
                # order, as before the evaluation they were).
                with self.store.transaction() as conn:
                    if self.store.get_machine_txn(conn, machine_name) != machine:
                        # Updated or deleted meanwhile, or a stale remembered row: decide
                        # again from the machine as it is now.
                        machines.forget(machine_name)
                        continue
                    existing = self.store.get_execution_by_arn_txn(conn, arn)
                if existing is None:
                    continue  # the name's execution is gone again: start afresh
                return self._start_again(existing, text)
            self.engine.first_committed(first)  # committed: the first step need not decode
            return {"executionArn": arn, "startDate": now.isoformat()}
        raise StoreError(f"state machine {machine_name} kept changing while {arn} was starting")

    def start_sync_execution(
        self,
        *,
        state_machine_arn: str,
        input: str | None = None,
        name: str | None = None,
        trace_header: str | None = None,
    ) -> JSONObject:
        """StartSyncExecution: run an EXPRESS machine's execution to its end and answer with its
        outcome (:meth:`ExpressExecutions.run_sync`); a STANDARD machine is
        ``StateMachineTypeNotSupported``, as on AWS (checked after the machine exists)."""
        machine_name = arns.machine_name(state_machine_arn)
        if name:
            arns.validate_name(name, "execution name")
        text, value = execution_input(input)
        with self.store.read_transaction() as conn:
            machine = self._machine_txn(conn, machine_name)
            if machine.machine_type != "EXPRESS":
                raise AwsApiError("StateMachineTypeNotSupported", TYPE_NOT_SUPPORTED)
            request = self._express_request_txn(conn, machine, name, text, value, trace_header)
        return self.express.run_sync(request)

    def _express_request_txn(
        self,
        conn: Any,
        machine: MachineRow,
        name: str | None,
        text: str,
        value: JSON,
        trace_header: str | None = None,
    ) -> ExpressRequest:
        version = self.store.get_version_txn(conn, machine.current_version_id)
        assert version is not None  # referenced by a foreign key
        return ExpressRequest(
            machine=self.engine.machines.get_txn(conn, machine.current_version_id),
            definition=version.definition,
            machine_name=machine.name,
            machine_arn=machine.arn,
            role_arn=machine.role_arn,
            name=name or None,
            input_text=text,
            input=value,
            trace_header=trace_header,
        )

    def _start_again(self, existing: ExecutionRow, text: str) -> JSONObject:
        # AWS: the same name and input while the execution is open is idempotent.
        if existing.status == "RUNNING" and existing.input == text:
            return {"executionArn": existing.arn, "startDate": iso(existing.start_us)}
        raise AwsApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{existing.arn}'")

    def describe_execution(self, *, execution_arn: str) -> JSONObject:
        row = self._execution(execution_arn)
        version = self.store.get_version(row.version_id)
        version_arn = (
            None if version is None else arns.version_arn(row.machine_name, version.version)
        )
        out = described(row, version_arn)
        link = self.store.map_runs.link(row.id)
        if link is not None and link.map_run_arn is not None:
            out["mapRunArn"] = link.map_run_arn  # a Distributed Map's child
        out["redriveCount"] = row.redrive_count
        if row.redrive_us is not None:
            out["redriveDate"] = iso(row.redrive_us)
        out["redriveStatus"] = self._redrive_status(row)[0]
        reason = self._redrive_status(row)[1]
        if reason:
            out["redriveStatusReason"] = reason
        return out

    def _redrive_status(self, row: ExecutionRow) -> tuple[str, str]:
        if row.status in ("FAILED", "ABORTED", "TIMED_OUT"):
            if row.event_count >= MAX_HISTORY_EVENTS:
                return "NOT_REDRIVABLE", "Execution has exceeded the max execution history size"
            return "REDRIVABLE", ""
        if row.status == "RUNNING":
            return "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven"
        return "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"

    def list_executions(
        self,
        *,
        state_machine_arn: str | None = None,
        status_filter: str | None = None,
        max_results: int = 100,
        next_token: str | None = None,
        map_run_arn: str | None = None,
        redrive_filter: str | None = None,
    ) -> JSONObject:
        if status_filter is not None and status_filter not in STATUSES:
            raise AwsApiError(
                "ValidationException", f"statusFilter must be one of {', '.join(STATUSES)}"
            )
        if map_run_arn is not None:
            if state_machine_arn is not None:
                raise AwsApiError(
                    "ValidationException",
                    "Specify either a stateMachineArn or a mapRunArn, not both",
                )
            listed = map_run_api.list_executions(
                self.store, map_run_arn, status_filter, max_results, page_offset(next_token)
            )
            return redrive_filtered(listed, redrive_filter)
        machine = arns.machine_name(state_machine_arn) if state_machine_arn else None
        if machine is not None:
            found = self.store.get_machine(machine)
            if found is None:
                raise AwsApiError(
                    "StateMachineDoesNotExist",
                    f"State Machine Does Not Exist: '{state_machine_arn}'",
                )
            if found.machine_type == "EXPRESS":  # AWS keeps no list of Express executions
                raise AwsApiError("StateMachineTypeNotSupported", TYPE_NOT_SUPPORTED)
        offset = page_offset(next_token)
        rows = self.store.list_executions(
            machine_name=machine, status=status_filter, limit=max_results + 1, offset=offset
        )
        items: list[JSON] = [execution_item(r) for r in rows[:max_results]]
        out: JSONObject = {"executions": items}
        if len(rows) > max_results:
            out["nextToken"] = page_token(offset + max_results)
        return redrive_filtered(out, redrive_filter)

    def get_execution_history(
        self,
        *,
        execution_arn: str,
        max_results: int = 1000,
        next_token: str | None = None,
        reverse_order: bool = False,
        include_execution_data: bool = True,
    ) -> JSONObject:
        row = self._execution(execution_arn)
        after = page_offset(next_token)
        events = self.store.history(
            row.id, after_seq=after, limit=max_results + 1, reverse=reverse_order
        )
        page = events[:max_results]
        out_events: list[JSON] = []
        for e in page:
            item: JSONObject = {
                "timestamp": from_us(e.timestamp_us).isoformat(),
                "type": e.event_type,
                "id": e.seq,
                "previousEventId": e.previous_seq,
            }
            details = e.details
            if not include_execution_data:
                details = _strip_data(details)
            item.update(details)
            out_events.append(item)
        out: JSONObject = {"events": out_events}
        if len(events) > max_results:
            out["nextToken"] = page_token(page[-1].seq)
        return out

    def stop_execution(
        self, *, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> JSONObject:
        row = self._execution(execution_arn)
        now = self.clock.now()
        if row.status != "RUNNING":
            return {"stopDate": iso(row.stop_us) or now.isoformat()}
        # Recorded under the row lock, so a worker holding the lease sees ABORTED on its next
        # step and drops whatever it still runs for this execution.
        self.engine.apply(row.id, [StopRequested(error=error, cause=cause)])
        after = self.store.get_execution(row.id)
        stop_us = after.stop_us if after is not None else None
        return {"stopDate": iso(stop_us) or now.isoformat()}

    def redrive_execution(
        self, *, execution_arn: str, client_token: str | None = None
    ) -> JSONObject:
        row = self._execution(execution_arn)
        status, reason = self._redrive_status(row)
        if status != "REDRIVABLE":
            if client_token and row.status == "RUNNING" and row.redrive_us is not None:
                # A retried call (same client token) after the redrive went through: AWS
                # answers it idempotently. Tokens are not stored; any token counts here.
                return {"redriveDate": iso(row.redrive_us)}
            raise AwsApiError("ExecutionNotRedrivable", f"Execution not redrivable: {reason}")
        self.engine.redrive(row.id)
        after = self.store.get_execution(row.id)
        return {"redriveDate": iso(after.redrive_us if after else None)}

    # -- Distributed Map: Map Runs ------------------------------------------------------------
    def describe_map_run(self, *, map_run_arn: str) -> JSONObject:
        """DescribeMapRun: the Map Run's settings and its children's and items' counts."""
        return map_run_api.describe(self.store, map_run_arn)

    def update_map_run(
        self,
        *,
        map_run_arn: str,
        max_concurrency: int | None = None,
        tolerated_failure_percentage: float | None = None,
        tolerated_failure_count: int | None = None,
    ) -> JSONObject:
        """UpdateMapRun: a running Map Run takes the new settings while it waits."""
        return map_run_api.update(
            self.store,
            map_run_arn,
            max_concurrency=max_concurrency,
            tolerated_failure_percentage=tolerated_failure_percentage,
            tolerated_failure_count=tolerated_failure_count,
        )

    def list_map_runs(
        self, *, execution_arn: str, max_results: int = 100, next_token: str | None = None
    ) -> JSONObject:
        """ListMapRuns: the Map Runs an execution started, newest first."""
        row = self._execution(execution_arn)
        return map_run_api.list_map_runs(
            self.store, row, max_results=max_results, offset=page_offset(next_token)
        )

    # -- task tokens -------------------------------------------------------------------------
    def send_task_success(self, *, task_token: str, output: str) -> JSONObject:
        """Complete the ``.waitForTaskToken`` / activity task ``task_token`` names with
        ``output`` (JSON text), as AWS's SendTaskSuccess."""
        size = len(output.encode("utf-8"))
        if size > MAX_PAYLOAD_BYTES:
            raise AwsApiError(
                "InvalidOutput", f"Output is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}"
            )
        try:
            value: JSON = parse_payload(output)
        except ValueError as e:
            raise AwsApiError("InvalidOutput", f"Invalid output: {e}") from e
        row, task_id = self._token_task(task_token)
        self.engine.apply(row.id, [TaskSucceeded(task_id=task_id, output=value)])
        return {}

    def send_task_failure(
        self, *, task_token: str, error: str | None = None, cause: str | None = None
    ) -> JSONObject:
        """Fail the task ``task_token`` names with ``error``/``cause`` (both optional, as
        AWS's SendTaskFailure; Retry and Catch see ``error`` as the error name)."""
        row, task_id = self._token_task(task_token)
        self.engine.apply(
            row.id, [TaskFailed(task_id=task_id, error=error or "", cause=cause or "")]
        )
        return {}

    def send_task_heartbeat(self, *, task_token: str) -> JSONObject:
        """Restart the task's HeartbeatSeconds countdown (AWS's SendTaskHeartbeat)."""
        row, task_id = self._token_task(task_token)
        self.engine.apply(row.id, [TaskHeartbeat(task_id=task_id)])
        return {}

    def _token_task(self, token: str) -> tuple[ExecutionRow, str]:
        """The execution and task a token names; InvalidToken for a token this runtime did not
        make, TaskTimedOut for one whose task is no longer waiting (ended, timed out, its
        execution stopped). The messages are AWS's as far as known (unverified)."""
        parts = token_task(token)
        row = self.store.get_execution_by_arn(parts[0]) if parts is not None else None
        if parts is None or row is None:
            raise AwsApiError("InvalidToken", "Invalid Token: 'Invalid token'")
        task_id = parts[1]
        state = self.engine.state_of_row(row)
        if state is not None and task_token(state.context, task_id) != token:
            raise AwsApiError("InvalidToken", "Invalid Token: 'Invalid token'")
        if row.status != "RUNNING" or state is None or task_id not in state.waiting:
            raise AwsApiError(
                "TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'"
            )
        return row, task_id

    # -- helpers ---------------------------------------------------------------------------
    def _machine_txn(self, conn: Any, name: str) -> MachineRow:
        machine = self.store.get_machine_txn(conn, name)
        if machine is None:
            raise AwsApiError(
                "StateMachineDoesNotExist",
                f"State Machine Does Not Exist: '{arns.machine_arn(name)}'",
            )
        return machine

    def _execution(self, execution_arn: str) -> ExecutionRow:
        arns.parse_execution_arn(execution_arn)
        return execution_by_arn(self.store, execution_arn)


def execution_by_arn(store: StateStore, execution_arn: str) -> ExecutionRow:
    """The execution's row; ``ExecutionDoesNotExist`` (AWS's answer) when there is none."""
    row = store.get_execution_by_arn(execution_arn)
    if row is None:
        raise AwsApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{execution_arn}'")
    return row


def _strip_data(details: JSONObject) -> JSONObject:
    """GetExecutionHistory with includeExecutionData=false: drop inputs/outputs."""
    out: JSONObject = {}
    for key, value in details.items():
        if isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k not in ("input", "output")}
        else:
            out[key] = value
    return out


__all__ = ["MAX_PAYLOAD_BYTES", "StatesService", "dumps"]
