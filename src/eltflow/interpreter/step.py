"""start / advance / redrive: the pure interpreter's entry points and its scheduler of frames.

One call runs every frame that can make progress (synchronous states run back to back) until
each is blocked on a task, a timer or its children, then returns the events and effects of that
whole step. State-specific behaviour lives in ``states_simple``, ``states_task`` and
``states_branch``; this module owns entering/exiting states, Retry/Catch, frame completion and
the execution's end.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

from eltflow.asl import errors as asl_errors
from eltflow.asl import limits
from eltflow.asl.model import JSONATA, AnyState, Catcher, MapState, StateMachine
from eltflow.errors import StatesError
from eltflow.interpreter import distributed, flow
from eltflow.interpreter import events as ev
from eltflow.interpreter.context import RETRYING_TYPES, context_object, rng_for
from eltflow.interpreter.dispatch import (
    CHILD_FAILED,
    CHILD_SUCCEEDED,
    ENTER_HANDLERS,
    REDRIVE_HANDLERS,
    on_task_event,
    on_timer,
)
from eltflow.interpreter.history import PASS_ROW, EventLog, Record, build
from eltflow.interpreter.protocol import (
    CancelTask,
    CancelTimer,
    Effect,
    ExecutionContext,
    HistoryEvent,
    Inbound,
    StartTimer,
    StopRequested,
    TimerFired,
)
from eltflow.interpreter.retry import decide_retry, find_catcher
from eltflow.interpreter.state import (
    ABORTED,
    CHILDREN,
    ENTER,
    FAILED,
    FINISHED,
    ROOT,
    SUCCEEDED,
    TASK,
    TIMER,
    ExecutionState,
    Frame,
    new_frame,
    new_state,
)
from eltflow.interpreter.states_branch import discard_children
from eltflow.types import JSON, JSONObject

Step = tuple[ExecutionState, list[HistoryEvent], list[Effect]]
LazyStep = tuple[ExecutionState, EventLog, list[Effect]]

EXECUTION_TIMER = "execution/timeout"

# Fast path for the payload limit: a compact JSON text shorter than this many characters can't
# exceed 256 KiB even if every character took 4 bytes in UTF-8.
_SAFE_CHARS = limits.MAX_PAYLOAD_BYTES // 4
_MAX_EVENTS = limits.MAX_HISTORY_EVENTS
# AWS's words when the history is full: the ExecutionFailed event is event number 25,000.
HISTORY_FULL_CAUSE = (
    f"The execution reached the maximum number of history events ({limits.MAX_HISTORY_EVENTS})."
)


class _HistoryFull(Exception):
    """Raised by :meth:`Stepper.emit` when only the final event still fits in the history."""


class Stepper:
    """The mutable working set of one interpreter call (never outlives it)."""

    __slots__ = ("_machines", "_texts", "effects", "machine", "now", "queue", "records", "st")

    def __init__(self, machine: StateMachine, st: ExecutionState, now: datetime) -> None:
        self.machine = machine
        self.st = st
        self.now = now
        # This call's events, as :mod:`~eltflow.interpreter.history` records: built into
        # HistoryEvent objects only when read (see :meth:`result` and :meth:`lazy_result`).
        self.records: list[Record] = []
        self.effects: list[Effect] = []
        self.queue: deque[str] = deque()
        # The machine's own cache of its sub-machines by frame path (not a dict per call).
        self._machines = machine.sub_machines
        # JSON text of containers already written to history in this call, by identity:
        # values are never mutated in place, and a state's output is often its input object.
        self._texts: dict[int, tuple[JSON, str]] = {}

    # --- plumbing ---------------------------------------------------------------------------

    def result(self) -> Step:
        return self.st, build(self.records, self.now), self.effects

    def lazy_result(self) -> LazyStep:
        """:meth:`result` with the events left unbuilt until someone reads them."""
        return self.st, EventLog(self.records, self.now), self.effects

    def _next_ids(self, frame: Frame | None) -> tuple[int, int]:
        st = self.st
        eid = st.next_event_id
        if eid >= _MAX_EVENTS and st.status == "RUNNING":
            raise _HistoryFull
        st.next_event_id = eid + 1
        prev = frame.last_event if frame is not None and frame.last_event else st.last_event_id
        st.last_event_id = eid
        if frame is not None:
            frame.last_event = eid
        return eid, prev

    def emit(self, frame: Frame | None, event: ev.Event) -> int:
        eid, prev = self._next_ids(frame)
        self.records.append((eid, prev, event))
        return eid

    def emit_later(self, frame: Frame | None, builder: Callable[..., ev.Event], *args: Any) -> int:
        """:meth:`emit` of the event ``builder(*args)`` makes, built only when read."""
        st = self.st  # _next_ids inlined: this runs at every execution's start and end
        eid = st.next_event_id
        if eid >= _MAX_EVENTS and st.status == "RUNNING":
            raise _HistoryFull
        st.next_event_id = eid + 1
        if frame is None:
            self.records.append((eid, st.last_event_id, builder, *args))
        else:
            prev = frame.last_event or st.last_event_id
            self.records.append((eid, prev, builder, *args))
            frame.last_event = eid
        st.last_event_id = eid
        return eid

    def emit_entered(self, frame: Frame, state_type: str, name: str, text: str) -> int:
        """``<Type>StateEntered`` (the hot path: its details are built only when read)."""
        st = self.st  # _next_ids inlined: this runs for every state entry
        eid = st.next_event_id
        if eid >= _MAX_EVENTS and st.status == "RUNNING":
            raise _HistoryFull
        st.next_event_id = eid + 1
        self.records.append(
            (eid, frame.last_event or st.last_event_id, None, state_type, name, text)
        )
        st.last_event_id = frame.last_event = eid
        return eid

    def emit_exited(
        self,
        frame: Frame,
        state_type: str,
        name: str,
        text: str,
        assigned: dict[str, JSON] | None,
    ) -> int:
        """``<Type>StateExited`` (the hot path: its details are built only when read)."""
        st = self.st  # _next_ids inlined: this runs for every state exit
        eid = st.next_event_id
        if eid >= _MAX_EVENTS and st.status == "RUNNING":
            raise _HistoryFull
        st.next_event_id = eid + 1
        self.records.append(
            (eid, frame.last_event or st.last_event_id, None, state_type, name, text, assigned)
        )
        st.last_event_id = frame.last_event = eid
        return eid

    def machine_of(self, frame: Frame) -> StateMachine:
        p = frame.path
        m = self._machines.get(p)
        if m is None:
            m = self.machine
            for i in range(0, len(p), 2):
                s: Any = m.states[p[i]]
                m = s.item_processor if p[i + 1] == "*" else s.branches[int(p[i + 1])]
            self._machines[p] = m
        return m

    def state_of(self, frame: Frame) -> AnyState:
        m = self._machines.get(frame.path)
        if m is None:
            m = self.machine_of(frame)
        return m.states[frame.state_name]

    def rng(self) -> random.Random:
        return rng_for(self.st.context, self.st.next_event_id)

    def variables(self, frame: Frame) -> dict[str, JSON]:
        """Variables visible in ``frame``: its own over those of the enclosing scopes."""
        if frame.parent is None:
            return frame.variables
        outer = self.variables(self.st.frames[frame.parent])
        if not frame.variables:
            return outer
        if not outer:
            return frame.variables
        return {**outer, **frame.variables}

    def context(
        self,
        frame: Frame,
        *,
        task_token: str | None = None,
        map_item: tuple[int, JSON] | None = None,
    ) -> JSONObject:
        return context_object(
            self.st.context,
            self.st.input,
            state_name=frame.state_name,
            entered_time=frame.entered_time,
            retry_count=(
                frame.retry_total if self.state_of(frame).type in RETRYING_TYPES else None
            ),
            task_token=task_token,
            map_item=map_item,
        )

    def payload_text(self, value: JSON, what: str) -> str:
        """``value`` as history JSON, checking AWS's 256 KiB payload limit."""
        kind = type(value)
        container = kind is dict or kind is list
        text: str | None = None
        if container:
            texts = self._texts
            if texts:  # with nothing cached (a call's first text) there is nothing to join
                hit = texts.get(id(value))
                if hit is not None and hit[0] is value:
                    return hit[1]
                text = self._joined(value)
        if text is None:
            text = ev.dumps(value)
        if len(text) > _SAFE_CHARS and len(text.encode("utf-8")) > limits.MAX_PAYLOAD_BYTES:
            limits.check_payload(value, what=what)
        if container:
            self._texts[id(value)] = (value, text)
        return text

    def precache_items(self, input: JSON, state: Any) -> None:
        """Before a Map's input is written, write its items one by one.

        Every item is written again as its iteration's input, so encoding the items first
        and joining their texts into the Map input's (see :meth:`_joined`) encodes each item
        once instead of twice. Only for the common shape (JSONPath, ``InputPath`` ``$``, items
        at ``$`` or ``$.name``, items that are objects or arrays); anything else, or any
        error (a payload over the limit is reported on the whole input), just skips this.
        """
        if state.query_language == JSONATA or state.input_path != "$":
            return
        path = state.items_path
        items: Any
        if path == "$":
            items = input
        elif (
            type(path) is str
            and path.startswith("$.")
            and type(input) is dict
            and path[2:].isidentifier()
        ):
            items = input.get(path[2:])
        else:
            return
        if type(items) is not list or not items:
            return
        texts = self._texts
        dumps = ev.dumps
        for item in items:
            kind = type(item)
            if kind is dict or kind is list:
                hit = texts.get(id(item))
                if hit is None or hit[0] is not item:
                    text = dumps(item)
                    if len(text) > _SAFE_CHARS:
                        return  # maybe over the limit: leave it to the whole input's check
                    texts[id(item)] = (item, text)
        try:
            self.payload_text(items, state.name)
        except StatesError:
            return

    def _joined(self, value: Any) -> str | None:
        """The text of a list/dict built from its elements' cached texts, or None.

        A Map's output is the list of its iterations' outputs, a Parallel's the list of its
        branches' outputs: each element's text is already in history, so joining those texts
        (the same characters the encoder would write: compact JSON is context-free) saves
        encoding every item again. Only tried when the first container element is cached, so
        a list of plain values costs one look.
        """
        texts = self._texts
        if type(value) is list:
            if not value:
                return None
            first = value[0]
            kind = type(first)
            if kind is not dict and kind is not list:
                return None
            hit = texts.get(id(first))
            if hit is None or hit[0] is not first:
                return None
            parts = [hit[1]]
            for item in value[1:]:
                kind = type(item)
                if kind is dict or kind is list:
                    hit = texts.get(id(item))
                    if hit is not None and hit[0] is item:
                        parts.append(hit[1])
                        continue
                parts.append(ev.dumps(item))
            return "[" + ",".join(parts) + "]"
        found = False
        for key, item in value.items():
            if type(key) is not str:
                return None
            kind = type(item)
            if kind is dict or kind is list:
                hit = texts.get(id(item))
                if hit is None or hit[0] is not item:
                    return None  # an uncached container: encoding it whole is no worse
                found = True
        if not found:
            return None
        out = []
        encode_key = ev.encode_key
        for key, item in value.items():
            kind = type(item)
            if kind is dict or kind is list:
                out.append(encode_key(key) + ":" + texts[id(item)][1])
            else:
                out.append(encode_key(key) + ":" + ev.dumps(item))
        return "{" + ",".join(out) + "}"

    def wait(self, frame: Frame, key: str) -> None:
        self.st.waiting[key] = frame.id

    def arm_timer(self, frame: Frame, timer_id: str, due: datetime) -> None:
        frame.pending_timer = timer_id
        frame.status = TIMER
        self.wait(frame, timer_id)
        self.effects.append(StartTimer(timer_id=timer_id, due=due))

    def after(self, seconds: float) -> datetime:
        return self.now + timedelta(seconds=seconds)

    def push(self, frame: Frame) -> None:
        self.queue.append(frame.id)

    # --- running frames ---------------------------------------------------------------------

    def drain(self) -> None:
        st = self.st
        frames = st.frames
        queue = self.queue
        enter = self.enter
        try:
            while queue and st.status == "RUNNING":
                frame = frames.get(queue.popleft())
                while frame is not None and frame.status == ENTER and st.status == "RUNNING":
                    enter(frame)
        except _HistoryFull:
            self.end_execution("FAILED", asl_errors.RUNTIME, HISTORY_FULL_CAUSE)

    def enter(self, frame: Frame) -> None:
        # The hot path of every state: state_of and payload_text's cache hit are inlined
        # (each call cost about as much as its body).
        m = self._machines.get(frame.path)
        if m is None:
            m = self.machine_of(frame)
        state: Any = m.states[frame.state_name]  # AnyState; Any: Pass-only fields read below
        kind = state.type
        frame.entries += 1
        frame.entered_time = self.now
        if frame.retry_counts:
            frame.retry_counts = []
        frame.retry_total = 0
        frame.attempt = 0
        if frame.children:  # not expected (leaving a state drops them): never leave orphans
            discard_children(self, frame)
        value = frame.input
        if kind == "Map":
            self.precache_items(value, state)
        hit = self._texts.get(id(value))
        if hit is not None and hit[0] is value:
            text = hit[1]
        else:
            try:
                text = self.payload_text(value, state.name)
            except StatesError as e:
                self.frame_failed(frame, e.error, e.cause)
                return
        frame.entered_event = self.emit_entered(frame, kind, state.name, text)
        if kind == "Pass" and state.passthrough:
            self._pass_row(frame, state, m, value, text)
            return
        try:
            ENTER_HANDLERS[kind](self, frame, state)
        except StatesError as e:
            self.raised(frame, state, e)

    def _pass_row(
        self, frame: Frame, state: Any, machine: StateMachine, value: JSON, text: str
    ) -> None:
        """Exit a ``passthrough`` Pass state just entered, and run the row of passthrough Pass
        states after it (as worked out once per machine, :func:`_row`) in this loop: for each,
        the same events, event ids and frame fields as :meth:`exit` then :meth:`enter` make,
        without their dispatch (a 10-Pass chain spent most of its interpreter time there),
        and one record for the row's events. The value, hence its text, is the same object
        all along."""
        rows = machine.pass_rows
        name = state.name
        row = rows.get(name)
        if row is None:
            row = rows[name] = _row(machine.states, state)
        names, after = row
        st = self.st
        eid = st.next_event_id
        count = len(names)
        if eid + 2 * count + 1 >= _MAX_EVENTS:  # the cap falls in the row: the general path
            self.exit(frame, state, value)  # (state by state, raising at the spot)
            return
        # One record for the row's 1 + 2 * count events (history.PASS_ROW): they differ only
        # in their ids and names, which the record's first id and the names make.
        self.records.append((eid, eid - 1, PASS_ROW, name, names, text))
        # No queue entries, where exit queues the frame at each state left: the frame is the
        # one drain is running (enter is called only there), which runs it on while it is
        # ENTER, so such an entry finds it blocked or finished when popped. It cannot find it
        # ENTER again: only its children's end makes it so, and they are queued after such
        # entries (a Parallel / Map state queues them last thing before the frame blocks).
        if count:
            eid += 2 * count
            frame.entries += count
            frame.entered_event = eid - 1
            frame.state_name = names[-1]
        st.next_event_id = eid + 1
        st.last_event_id = frame.last_event = eid
        if after is None:
            self.frame_succeeded(frame, value)
            return
        frame.state_name = after
        frame.input = value
        frame.status = ENTER

    def exit(
        self,
        frame: Frame,
        state: AnyState,
        output: JSON,
        assigned: dict[str, JSON] | None = None,
        next_state: str | None = None,
    ) -> None:
        """Leave ``state`` with ``output``: record it, apply Assign, go to the next state."""
        text = self.payload_text(output, state.name)
        self.emit_exited(frame, state.type, state.name, text, assigned)
        if frame.children:
            discard_children(self, frame)
        # A Map's items and a Map / Parallel's effective input are read only while the state
        # runs (or by a redrive of it, which cannot come once it is left): not kept, or every
        # later snapshot of the frame writes them again.
        if frame.items is not None:
            frame.items = None
        if frame.scratch is not None:
            frame.scratch = None
        if assigned:
            if frame.variables:
                frame.variables = {**frame.variables, **assigned}
            else:
                frame.variables = dict(assigned)
        target = next_state or state.next
        if target is None:
            self.frame_succeeded(frame, output)
            return
        frame.state_name = target
        frame.input = output
        frame.status = ENTER
        self.queue.append(frame.id)

    # --- errors -----------------------------------------------------------------------------

    def raised(
        self, frame: Frame, state: AnyState, e: StatesError, *, failed_event: str | None = None
    ) -> None:
        """``state``'s own evaluation raised ``e``: name the state in the cause the way AWS does
        (:data:`~eltflow.asl.errors.LOCATED`), then Retry / Catch / fail as for any error."""
        cause = asl_errors.located_cause(e.error, e.cause, state.name, frame.entered_event)
        self.state_error(frame, state, e.error, cause, failed_event=failed_event)

    def state_error(
        self,
        frame: Frame,
        state: AnyState,
        error: str,
        cause: str,
        *,
        failed_event: str | None = None,
    ) -> None:
        """``state`` raised ``error``: Retry, else Catch, else the frame fails.

        ``failed_event`` (``ParallelStateFailed``...) is emitted when no retry happens.
        """
        if error == asl_errors.QUERY_EVALUATION_ERROR and failed_event is None:
            # The state's own JSONata failed (not an error propagated from a branch).
            self.emit(frame, ev.evaluation_failed(state.name, error, cause, None))
        retriers = getattr(state, "retry", ())
        if retriers:
            decision = decide_retry(retriers, frame.retry_counts, error, self.rng())
            if decision is not None:
                counts = frame.retry_counts
                while len(counts) < len(retriers):
                    counts.append(0)
                counts[decision.index] += 1
                frame.retry_total += 1
                frame.error, frame.cause = error, cause
                timer_id = f"{frame.task_key}/retry/{frame.retry_total}"
                self.arm_timer(frame, timer_id, self.after(decision.delay))
                return
        if failed_event is not None:
            self.emit(frame, ev.plain(failed_event))
        catchers: tuple[Catcher, ...] = getattr(state, "catch", ())
        catcher = find_catcher(catchers, error) if catchers else None
        if catcher is not None:
            try:
                self.catch(frame, state, catcher, error, cause)
            except StatesError as e:
                cause = asl_errors.located_cause(e.error, e.cause, state.name, frame.entered_event)
                self.frame_failed(frame, e.error, cause)
            return
        self.frame_failed(frame, error, cause)

    def catch(
        self, frame: Frame, state: AnyState, catcher: Catcher, error: str, cause: str
    ) -> None:
        error_output: JSONObject = {"Error": error, "Cause": cause}
        variables = self.variables(frame)
        context = self.context(frame)
        if state.query_language == JSONATA:
            states: JSONObject = {
                "input": frame.input,
                "context": context,
                "errorOutput": error_output,
            }
            output: JSON = error_output
            if catcher.output is not None:
                output = flow.jsonata(catcher.output, states, variables, self.rng(), "Output")
            assigned = flow.assign_jsonata(catcher.assign, states, variables, self.rng())
        else:
            output = flow.place_result(catcher.result_path, frame.input, error_output)
            assigned = flow.assign_jsonpath(
                catcher.assign, error_output, context, variables, self.rng()
            )
        self.exit(frame, state, output, assigned, next_state=catcher.next)

    # --- frame and execution ends -----------------------------------------------------------

    def frame_succeeded(self, frame: Frame, output: JSON) -> None:
        frame.status = SUCCEEDED
        frame.output = output
        if frame.parent is None:
            hit = self._texts.get(id(output))  # payload_text's cache hit, inlined as in enter
            if hit is not None and hit[0] is output:
                self.execution_succeeded(output, hit[1])
            else:
                self.execution_succeeded(output, self.payload_text(output, frame.state_name))
            return
        parent = self.st.frames[frame.parent]
        pstate = self.state_of(parent)
        CHILD_SUCCEEDED[pstate.type](self, parent, pstate, frame)

    def frame_failed(self, frame: Frame, error: str | None, cause: str | None) -> None:
        frame.status = FAILED
        frame.error, frame.cause = error, cause
        self.release(frame)
        if frame.parent is None:
            self.end_execution("FAILED", error, cause)
            return
        parent = self.st.frames[frame.parent]
        pstate = self.state_of(parent)
        CHILD_FAILED[pstate.type](self, parent, pstate, frame)

    def release(self, frame: Frame) -> None:
        """Forget what ``frame`` waits for, cancelling it (its task or its timers)."""
        waiting = self.st.waiting
        if frame.pending_task is not None:
            if waiting.pop(frame.pending_task, None) is not None:
                self.effects.append(CancelTask(task_id=frame.pending_task))
            frame.pending_task = None
        for timer in (frame.pending_timer, frame.timeout_timer, frame.heartbeat_timer):
            if timer is not None and waiting.pop(timer, None) is not None:
                self.effects.append(CancelTimer(timer_id=timer))
        frame.pending_timer = None
        frame.timeout_timer = None
        frame.heartbeat_timer = None

    def abort_frame(self, frame: Frame) -> None:
        """Stop ``frame`` and its descendants (a sibling failed, or the execution ended)."""
        for child_id in frame.children:
            child = self.st.frames.get(child_id)
            if child is not None and child.status not in FINISHED:
                self.abort_frame(child)
        self.release(frame)
        if frame.status not in FINISHED:
            frame.status = ABORTED

    def execution_succeeded(self, output: JSON, text: str) -> None:
        """The root frame succeeded with ``output`` (written as ``text``): the execution ends."""
        st = self.st
        if st.status != "RUNNING":
            return
        st.status = "SUCCEEDED"
        st.output = output
        self.emit_later(None, ev.execution_succeeded, text)
        self._disarm()

    def end_execution(self, status: str, error: str | None, cause: str | None) -> None:
        """The execution ends ``status`` (FAILED, TIMED_OUT or ABORTED) with ``error`` and
        ``cause``: every frame still running is aborted (:meth:`execution_succeeded` ends a
        successful one)."""
        st = self.st
        if st.status != "RUNNING":
            return
        if status != "FAILED":
            self.abort_events()
        for frame in list(st.frames.values()):
            if frame.status not in FINISHED:
                self.release(frame)
                frame.status = ABORTED
        if status == "FAILED":
            st.status = "FAILED"
            self.emit(None, ev.execution_failed(error, cause))
        elif status == "TIMED_OUT":
            st.status = "TIMED_OUT"
            self.emit(None, ev.execution_timed_out(error, cause))
        else:
            st.status = "ABORTED"
            self.emit(None, ev.execution_aborted(error, cause))
        st.error, st.cause = error, cause
        self._disarm()

    def _disarm(self) -> None:
        """The execution ended: whatever is still armed is moot now."""
        st = self.st
        waiting = st.waiting
        if waiting:
            for key in list(waiting):
                if "/task/" in key:
                    self.effects.append(CancelTask(task_id=key))
                else:
                    self.effects.append(CancelTimer(timer_id=key))
            waiting.clear()
        st.execution_timer = None

    def abort_events(self) -> None:
        """On a stop or an execution timeout, record each state still in progress as aborted
        (``TaskStateAborted``, ``WaitStateAborted``, ``MapIterationAborted`` +
        ``MapStateAborted``, ``ParallelStateAborted``), innermost first."""
        frames = self.st.frames
        active = [f for f in frames.values() if f.status in (TASK, TIMER, CHILDREN)]
        active.sort(key=lambda f: -len(f.path))
        for frame in active:
            if self.st.next_event_id >= _MAX_EVENTS - 1:
                return  # keep the last slot for the execution's own final event
            state = self.state_of(frame)
            if state.type == "Map" and frame.status == TASK:
                self.emit(frame, ev.plain("MapRunAborted"))  # a Distributed Map's Map Run
            if state.type == "Map":
                for child_id in frame.children:
                    child = frames.get(child_id)
                    if child is not None and child.status not in FINISHED:
                        self.emit(frame, ev.map_iteration("Aborted", state.name, child.index))
            self.emit(frame, ev.plain(f"{state.type}StateAborted"))

    # --- inbounds ---------------------------------------------------------------------------

    def receive(self, inbound: Inbound) -> None:
        st = self.st
        if st.status != "RUNNING":
            return
        try:
            if isinstance(inbound, StopRequested):
                self.end_execution("ABORTED", inbound.error, inbound.cause)
                return
            if isinstance(inbound, TimerFired):
                key = inbound.timer_id
                if key == EXECUTION_TIMER and st.execution_timer == key:
                    st.waiting.pop(key, None)
                    st.execution_timer = None
                    self.end_execution("TIMED_OUT", asl_errors.TIMEOUT, "")
                    return
            else:
                key = inbound.task_id
            frame_id = st.waiting.get(key)
            frame = st.frames.get(frame_id) if frame_id is not None else None
            if frame is None:
                return  # unknown, finished or duplicate: ignored (idempotent)
            state = self.state_of(frame)
            if isinstance(inbound, TimerFired):
                on_timer(self, frame, state, key)
            else:
                on_task_event(self, frame, state, inbound)
            self.drain()
        except _HistoryFull:
            self.end_execution("FAILED", asl_errors.RUNTIME, HISTORY_FULL_CAUSE)


def _row(states: Mapping[str, Any], state: Any) -> tuple[tuple[str, ...], str | None]:
    """The passthrough Pass states that follow ``state`` in a row (each its predecessor's
    Next; a cycle is cut where it repeats) and the Next of the last one (None: the end)."""
    names: list[str] = []
    seen = {state.name}
    target = state.next
    while target is not None and target not in seen:
        following = states[target]
        if not (following.type == "Pass" and following.passthrough):
            break
        names.append(target)
        seen.add(target)
        target = following.next
    return tuple(names), target


# --- public API -------------------------------------------------------------------------------


def start(
    machine: StateMachine,
    input: JSON,
    context: ExecutionContext,
    now: datetime,
    *,
    variables: Mapping[str, JSON] | None = None,
    execution_input: JSON = None,
) -> Step:
    """Begin an execution: ExecutionStarted, then run until every frame is blocked.

    For TestState (one state tested in a given setting): ``variables`` seed the root scope,
    and ``execution_input`` (when not None) is ``$$.Execution.Input`` instead of ``input``.
    """
    return _started(
        machine, input, context, now, variables=variables, execution_input=execution_input
    ).result()


def start_lazy(
    machine: StateMachine, input: JSON, context: ExecutionContext, now: datetime
) -> LazyStep:
    """:func:`start`, with the events built only when read (an in-memory driver may never)."""
    return _started(machine, input, context, now).lazy_result()


def _started(
    machine: StateMachine,
    input: JSON,
    context: ExecutionContext,
    now: datetime,
    *,
    variables: Mapping[str, JSON] | None = None,
    execution_input: JSON = None,
) -> Stepper:
    if execution_input is None:
        execution_input = input
    root = new_frame(ROOT, None, (), 0, machine.start_at, input, 0)
    if variables:
        root.variables = dict(variables)
    st = new_state(context, execution_input, root)
    stepper = Stepper(machine, st, now)
    try:
        text = stepper.payload_text(execution_input, "ExecutionInput")
    except StatesError as e:
        stepper.emit(None, ev.execution_started(ev.dumps(None), context.role_arn))
        stepper.end_execution("FAILED", e.error, e.cause)
        return stepper
    stepper.emit_later(None, ev.execution_started, text, context.role_arn)
    # The first state's entry follows no event: AWS records it with previousEventId 0, as
    # ExecutionStarted itself (GetExecutionHistory's example in the API reference).
    root.last_event = st.last_event_id = 0
    if machine.timeout_seconds is not None:
        _arm_execution_timeout(stepper, machine, now)
    stepper.queue.append(ROOT)
    stepper.drain()
    return stepper


def advance(machine: StateMachine, state: ExecutionState, inbound: Inbound, now: datetime) -> Step:
    """Feed one outcome (task result, timer, stop request) and run what it unblocks.

    Inbounds for unknown or already-handled ids are ignored, so delivering one twice is safe.
    ``state`` is updated in place and returned.
    """
    stepper = Stepper(machine, state, now)
    stepper.receive(inbound)
    return stepper.result()


def redrive(machine: StateMachine, state: ExecutionState, now: datetime) -> Step:
    """Continue a FAILED / ABORTED / TIMED_OUT execution from where it stopped.

    Succeeded states are not re-run; inside Parallel and Map only the branches / iterations that
    failed or were aborted run again. Emits ``ExecutionRedriven`` with the new redrive count.
    """
    if state.status not in ("FAILED", "ABORTED", "TIMED_OUT"):
        raise ValueError(
            f"only a FAILED, ABORTED or TIMED_OUT execution can be redriven, not {state.status}"
        )
    state.context = replace(state.context, redrive_count=state.context.redrive_count + 1)
    state.status = "RUNNING"
    state.error = state.cause = None
    stepper = Stepper(machine, state, now)
    stepper.emit(None, ev.execution_redriven(state.context.redrive_count))
    _arm_execution_timeout(stepper, machine, now)
    try:
        _redrive_frame(stepper, state.root, REDRIVE_HANDLERS)
        stepper.drain()
    except _HistoryFull:
        stepper.end_execution("FAILED", asl_errors.RUNTIME, HISTORY_FULL_CAUSE)
    return stepper.result()


def _redrive_frame(
    stepper: Stepper,
    frame: Frame,
    handlers: dict[str, Callable[[Stepper, Frame, Any], bool]],
) -> None:
    """Re-open ``frame`` at its unfinished state: Parallel/Map resume their unfinished children,
    any other state is entered again with the input it had."""
    if frame.status == SUCCEEDED:
        return
    state = stepper.state_of(frame)
    distributed_map = isinstance(state, MapState) and state.processor_mode == "DISTRIBUTED"
    if distributed_map and distributed.redrive(stepper, frame, cast(MapState, state)):
        return
    handler = handlers.get(state.type)
    # A Map / Parallel with children left, or with results (its failure came after them).
    has_children = bool(frame.children or frame.results)
    if handler is not None and has_children and handler(stepper, frame, state):
        for child_id in list(frame.children):
            child = stepper.st.frames.get(child_id)
            if child is not None and child.status in (FAILED, ABORTED):
                _redrive_frame(stepper, child, handlers)
        return
    frame.status = ENTER
    frame.error = frame.cause = None
    stepper.push(frame)


def _arm_execution_timeout(stepper: Stepper, machine: StateMachine, now: datetime) -> None:
    if machine.timeout_seconds is not None:
        stepper.st.execution_timer = EXECUTION_TIMER
        stepper.st.waiting[EXECUTION_TIMER] = ROOT
        stepper.effects.append(
            StartTimer(
                timer_id=EXECUTION_TIMER, due=now + timedelta(seconds=machine.timeout_seconds)
            )
        )


__all__ = [
    "EXECUTION_TIMER",
    "LazyStep",
    "Step",
    "Stepper",
    "advance",
    "redrive",
    "start",
    "start_lazy",
]
