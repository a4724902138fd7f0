"""The snapshot of one execution: a tree of frames, JSON-serialisable.

A *frame* is one running copy of a (sub-)machine: the root machine, one Parallel branch, or one
Map iteration. Each frame knows which state it is in, that state's input, its own scope of
workflow variables, the retry counters of the current state entry and which task/timer it waits
for. Frames live in one flat dict keyed by a deterministic id, children pointing at their
parent, so the snapshot is plain JSON and ids survive a round trip.

The interpreter updates an :class:`ExecutionState` in place and returns it (copying a large
tree at every step would dominate the hot path); take :meth:`ExecutionState.to_json` before a
step if the previous state must be kept.

Snapshots are versioned (``SNAPSHOT_VERSION``): a stored snapshot outlives the code that wrote
it (an execution waiting a week spans an upgrade), so a reader accepts every earlier version
through an explicit upgrade step per version (``_UPGRADES``) and refuses a newer one by name.
Changing the shape (renaming a Frame field, say) means bumping the version and adding the step
that rewrites the previous shape; tests/fixtures/snapshots holds one snapshot per old version.

A durable store's snapshot (:meth:`ExecutionState.to_stored`) leaves out what it would
otherwise write again at every step: each large payload (an input, a Map's items) and each
finished child's output are *parts*, written once (the store keeps them beside the snapshot,
never changed) and named in the snapshot's ``refs``; :meth:`ExecutionState.from_json` takes
them back. A durable Map's snapshot no longer grows with its items and results, so the bytes a
step writes are bounded by what it changed (issue 16: 60 MB of snapshots for 2,000 items).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast

from eltflow import json_text
from eltflow.errors import StoreError
from eltflow.interpreter.protocol import ExecutionContext, ExecutionStatus
from eltflow.types import JSON, JSONObject

# 1: the unversioned snapshots of eltflow before versioning; 2: the same shape plus "version";
# 3: frames have ``task_submitted`` (the TaskSubmitted event); 4: a Parallel branch or Map
# iteration that succeeded leaves ``frames``, its output kept in its parent's ``results``;
# 5: a frame's ``items`` may be ``ITEMS_ARE_INPUT``; 6: the snapshot and its frames may have
# ``refs``, naming the parts that hold their payloads and results (written null / {}), and
# the snapshot has ``slots``.
SNAPSHOT_VERSION = 6

PART_MIN_CHARS = 1024
"""A list or object payload whose text is this long or longer is a part of the snapshot (see
the module's docstring); a shorter one is written in it, as is every string or number."""

ITEMS_ARE_INPUT = "input"
"""A frame's ``items`` in a snapshot when they are its ``input`` (a Map without ItemsPath or
InputPath): written once, not twice at every step. Items are an array or null otherwise."""


def _v1_to_v2(data: JSONObject) -> JSONObject:
    """v1 had no version field and otherwise the v2 shape."""
    return {**data, "version": 2}


def _v2_to_v3(data: JSONObject) -> JSONObject:
    """v2 frames had no ``task_submitted``: a task waiting in a v2 snapshot has recorded no
    TaskSubmitted (eltflow did not record the event then), so False."""
    frames = [
        {"task_submitted": False, **cast(JSONObject, f)}
        for f in cast(list[JSON], data.get("frames") or [])
    ]
    return {**data, "frames": cast(JSON, frames), "version": 3}


def _v3_to_v4(data: JSONObject) -> JSONObject:
    """v3 kept the frame of every branch / iteration that succeeded (until its Parallel / Map
    state ended, or for good once it failed): v4 keeps only its output, in the parent's
    ``results`` under the child's index, and drops the frame, as :func:`collapse` does."""
    frames = [{**cast(JSONObject, f), "results": {}} for f in cast(list[JSON], data["frames"])]
    by_id = {f["id"]: f for f in frames}
    kept: list[JSON] = []
    for f in frames:
        parent = by_id.get(cast(str, f["parent"])) if f["parent"] is not None else None
        siblings = cast(list[str], parent["children"]) if parent is not None else []
        if parent is not None and f["status"] == SUCCEEDED and f["id"] in siblings:
            cast(JSONObject, parent["results"])[str(f["index"])] = f["output"]
            parent["children"] = [c for c in siblings if c != f["id"]]
        else:
            kept.append(f)
    return {**data, "frames": kept, "version": 4}


def _v4_to_v5(data: JSONObject) -> JSONObject:
    """v4 wrote the items out in full (never as ``ITEMS_ARE_INPUT``): only the version."""
    return {**data, "version": 5}


def _v5_to_v6(data: JSONObject) -> JSONObject:
    """v5 wrote every payload and result in the snapshot (never in ``refs``), so no results
    slot was taken."""
    return {**data, "slots": 0, "version": 6}


# version -> the step rewriting a snapshot of that version into the next one.
_UPGRADES: dict[int, Callable[[JSONObject], JSONObject]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
}


Parts = Callable[[], Mapping[str, str]]
"""The parts a store holds for an execution (part name -> text), read when first needed."""


def _payload_part(text: str) -> str:
    """A payload part's name: its text's hash (the same payload written again is one part).
    A lone surrogate (which a JSON string may hold) is hashed as it is, not refused."""
    data = text.encode("utf-8", "surrogatepass")
    return "p:" + hashlib.blake2b(data, digest_size=16).hexdigest()


def _result_part(slot: int, position: int) -> str:
    """The part holding the ``position``-th result (in the order they finished) of the
    ``results`` written under ``slot``; its text is ``"<index>":<output>``."""
    return f"r:{slot}:{position}"


class _PartReader:
    """Payloads and results taken back from the parts a snapshot's ``refs`` name: one object
    per part (a payload named twice is one object, as when it was written), each remembered
    in ``texts`` so the next snapshot names the part instead of writing it."""

    def __init__(self, read: Parts | None) -> None:
        self._read = read
        self._parts: Mapping[str, str] | None = None
        self._payloads: dict[str, JSON] = {}
        self.texts: dict[int, tuple[Any, str, int, str | None]] = {}

    def _text(self, name: str) -> str:
        if self._parts is None:
            if self._read is None:
                raise StoreError(f"execution snapshot refers to part {name!r}: none was given")
            self._parts = self._read()
        text = self._parts.get(name)
        if text is None:
            raise StoreError(f"execution snapshot refers to part {name!r}, which is missing")
        return text

    def payload(self, name: str) -> JSON:
        value = self._payloads.get(name)
        if value is None:
            text = self._text(name)
            value = cast(JSON, json.loads(text))
            self._payloads[name] = value
            self.texts[id(value)] = (value, "", 0, name)
        return value

    def results(self, slot: int, count: int) -> dict[str, JSON]:
        body = ",".join(self._text(_result_part(slot, i)) for i in range(count))
        value = cast(dict[str, JSON], json.loads(f"{{{body}}}"))
        self.texts[id(value)] = (value, "", count, str(slot))
        return value

    def resolve(self, data: JSONObject) -> JSONObject:
        """``data`` (the snapshot's head or a frame) with the payloads its ``refs`` name."""
        refs = cast("JSONObject | None", data.get("refs"))
        if refs is None:
            return data
        out = {k: v for k, v in data.items() if k != "refs"}
        for name, ref in refs.items():
            if name == "results":
                slot, count = cast(list[Any], ref)
                out[name] = self.results(cast(int, slot), cast(int, count))
            else:
                out[name] = self.payload(cast(str, ref))
        return out


def upgrade_snapshot(data: JSONObject) -> JSONObject:
    """``data`` rewritten to ``SNAPSHOT_VERSION``, one upgrade step at a time."""
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise StoreError(f"execution snapshot has an invalid version {version!r}")
    if version > SNAPSHOT_VERSION:
        raise StoreError(
            f"execution snapshot version {version} was written by a newer eltflow "
            f"(this one reads up to {SNAPSHOT_VERSION}): upgrade eltflow to resume it"
        )
    while version < SNAPSHOT_VERSION:
        data = _UPGRADES[version](data)
        version += 1
    return data


# Frame.status values. ENTER: the frame must enter ``state_name`` with ``input`` next.
ENTER = "ENTER"
TASK = "TASK"  # waiting for ``pending_task``
TIMER = "TIMER"  # waiting for ``pending_timer`` (Wait state or retry backoff)
CHILDREN = "CHILDREN"  # a Parallel/Map state waits for its child frames
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
ABORTED = "ABORTED"
FINISHED = frozenset({SUCCEEDED, FAILED, ABORTED})

ROOT = ""


# Not kw_only, though every caller names its arguments: CPython fills a missing keyword-only
# argument's default by a dict lookup per parameter, a missing positional one from a tuple, so
# kw_only made ``Frame(id=..., state_name=..., input=...)`` (32 defaults) about twice as
# costly: ~1 µs of a 10-Pass chain's ~12 µs execute, and one per Map iteration.
@dataclass(slots=True)
class Frame:
    id: str
    parent: str | None = None
    # How to find this frame's machine from the root: (state name, branch index or "*") pairs.
    path: tuple[str, ...] = ()
    index: int = 0  # branch index (Parallel) or item index (Map)
    state_name: str = ""
    input: JSON = None
    variables: dict[str, JSON] = field(default_factory=dict)
    status: str = ENTER
    entries: int = 0  # states entered so far: makes task/timer ids unique within the frame
    entered_time: datetime | None = None
    entered_event: int = 0
    retry_counts: list[int] = field(default_factory=list)
    retry_total: int = 0
    attempt: int = 0
    pending_task: str | None = None
    pending_timer: str | None = None
    timeout_timer: str | None = None
    # HeartbeatSeconds of the running task (activities and .waitForTaskToken tasks only), its
    # current countdown timer, and how many countdowns the frame armed (keeps timer ids unique).
    heartbeat_seconds: float | None = None
    heartbeat_timer: str | None = None
    heartbeats: int = 0
    task_started: bool = False
    # TaskSubmitted is recorded for the current attempt (a resumed .sync task reports its
    # submission again: recorded once).
    task_submitted: bool = False
    last_event: int = 0
    # Parallel / Map bookkeeping while status == CHILDREN (and kept on failure for redrive).
    # ``children``: the child frames in ``frames`` (running, failed or aborted), in start
    # order; ``results``: the output of each child that succeeded, by str(child index), its
    # frame dropped (:func:`collapse`).
    children: list[str] = field(default_factory=list)
    items: list[JSON] | None = None
    scratch: JSON = None  # Parallel: the branches' input; Map: the ItemSelector's input
    next_item: int = 0
    running: int = 0
    failures: int = 0
    max_concurrency: int = 0
    tolerated_count: int | None = None
    tolerated_percentage: float | None = None
    # Outcome of a finished frame (or of the failed state, for redrive).
    output: JSON = None
    error: str | None = None
    cause: str | None = None
    results: dict[str, JSON] = field(default_factory=dict)  # see ``children``

    @property
    def task_key(self) -> str:
        """Prefix of every id minted for the current state entry of this frame."""
        return f"{self.id}/{self.state_name}#{self.entries}"

    def to_json(self) -> JSONObject:
        # Every field read by one attrgetter call; a loop over ``fields()`` with getattr and
        # isinstance per field cost ~4x (it was most of a durable step's CPU, issue 16).
        out: JSONObject = dict(zip(_FRAME_NAMES, _frame_values(self), strict=True))
        out["path"] = list(self.path)
        if self.entered_time is not None:
            out["entered_time"] = self.entered_time.isoformat()
        # Copies of what the frame changes in place; payloads (input, items, scratch, output)
        # are never changed in place (a step replaces them), so they are shared.
        out["variables"] = dict(self.variables)
        out["retry_counts"] = list(self.retry_counts)
        out["children"] = list(self.children)
        out["results"] = dict(self.results)
        if self.items is not None and self.items is self.input:
            out["items"] = ITEMS_ARE_INPUT
        return out

    @classmethod
    def from_json(cls, data: JSONObject) -> Frame:
        unknown = sorted(set(data) - _FRAME_FIELDS)
        if unknown:
            # A field this version does not know means a missing upgrade step (or a snapshot
            # from elsewhere): say which, rather than a TypeError from the constructor.
            raise StoreError(
                f"execution snapshot frame {data.get('id')!r} has unknown fields {unknown}"
            )
        kwargs: dict[str, Any] = dict(data)
        kwargs["path"] = tuple(cast(list[str], data.get("path") or []))
        if data.get("items") == ITEMS_ARE_INPUT:
            kwargs["items"] = data.get("input")
        entered = data.get("entered_time")
        kwargs["entered_time"] = (
            datetime.fromisoformat(entered) if isinstance(entered, str) else None
        )
        return cls(**kwargs)


_new = object.__new__


def new_frame(
    id: str,
    parent: str | None,
    path: tuple[str, ...],
    index: int,
    state_name: str,
    input: JSON,
    last_event: int,
) -> Frame:
    """The Frame ``Frame(id, parent, path, index, state_name, input, last_event=last_event)``
    makes, every other field at its default (a test checks each field), set slot by slot.
    Frame's ``__init__`` takes 37 arguments and fills 31 from defaults at every call: 7.6k
    instructions per frame, 5.3k this way (callgrind). One frame per execution, one per
    Parallel branch and Map iteration."""
    f = _new(Frame)
    f.id = id
    f.parent = parent
    f.path = path
    f.index = index
    f.state_name = state_name
    f.input = input
    f.variables = {}
    f.status = ENTER
    f.entries = 0
    f.entered_time = None
    f.entered_event = 0
    f.retry_counts = []
    f.retry_total = 0
    f.attempt = 0
    f.pending_task = None
    f.pending_timer = None
    f.timeout_timer = None
    f.heartbeat_seconds = None
    f.heartbeat_timer = None
    f.heartbeats = 0
    f.task_started = False
    f.task_submitted = False
    f.last_event = last_event
    f.children = []
    f.items = None
    f.scratch = None
    f.next_item = 0
    f.running = 0
    f.failures = 0
    f.max_concurrency = 0
    f.tolerated_count = None
    f.tolerated_percentage = None
    f.output = None
    f.error = None
    f.cause = None
    f.results = {}
    return f


_ITEMS_ARE_INPUT = json_text.Fragment(json_text.dumps(ITEMS_ARE_INPUT))


def _finite(value: float | None) -> bool:
    return value is None or math.isfinite(value)


_FRAME_NAMES = tuple(f.name for f in fields(Frame))
_FRAME_FIELDS = frozenset(_FRAME_NAMES)
_frame_values = operator.attrgetter(*_FRAME_NAMES)


def collapse(parent: Frame, child: Frame, frames: dict[str, Frame]) -> None:
    """``child`` (a Parallel branch or Map iteration of ``parent``) succeeded: keep its output
    in ``parent.results`` and drop its frame. Nothing reads a succeeded child's frame again (a
    redrive re-runs only the failed ones), and a snapshot holding every finished iteration
    made each step of a Map cost as much as all the iterations so far (issue 16)."""
    key = str(child.index)
    if key in parent.results:  # never expected; a new dict keeps to_text's cache of it right
        parent.results = {**parent.results, key: child.output}
    else:
        parent.results[key] = child.output
    parent.children.remove(child.id)
    del frames[child.id]


def abort_unfinished(state: ExecutionState) -> None:
    """Every frame of ``state`` that had not finished is ABORTED, with nothing left to wait
    for, as the interpreter leaves them when it fails an execution itself
    (``Stepper.end_execution``); their tasks and timers are the caller's to drop. For an
    execution failed from outside the interpreter (``Engine.fail``): a redrive then runs the
    Map iterations and Parallel branches that were running again, as aborted ones, instead of
    leaving them out (the Map ended without their results)."""
    waiting = state.waiting
    for frame in state.frames.values():
        if frame.status in FINISHED:
            continue
        for waited in (
            frame.pending_task,
            frame.pending_timer,
            frame.timeout_timer,
            frame.heartbeat_timer,
        ):
            if waited is not None:
                waiting.pop(waited, None)
        frame.pending_task = frame.pending_timer = None
        frame.timeout_timer = frame.heartbeat_timer = None
        frame.status = ABORTED


@dataclass(slots=True)  # not kw_only, as Frame: built once per execution
class ExecutionState:
    """Everything the interpreter needs to continue an execution."""

    context: ExecutionContext
    input: JSON = None
    status: ExecutionStatus = "RUNNING"
    output: JSON = None
    error: str | None = None
    cause: str | None = None
    next_event_id: int = 1
    last_event_id: int = 0
    frames: dict[str, Frame] = field(default_factory=dict)
    # task/timer id -> frame id, for routing inbounds (and ignoring unknown/duplicate ones).
    waiting: dict[str, str] = field(default_factory=dict)
    execution_timer: str | None = None
    # Results slots taken (:meth:`to_stored`): the next results written as parts take the next.
    slots: int = 0
    # Not part of the state: what the last :meth:`to_stored` wrote of each payload, by the id
    # of the payload (kept alive here, so its id is not reused): (payload, its text if written
    # in the snapshot, else "", its length when written: for ``results``, which grow in place,
    # its part: the payload's name, or the slot of the results' parts; None: in the snapshot).
    texts: dict[int, tuple[Any, str, int, str | None]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # Not part of the state either: the characters of those texts (what keeping this state
    # costs besides its objects and its snapshot text: :class:`StateCache` counts them).
    texts_chars: int = field(default=0, repr=False, compare=False)

    @property
    def root(self) -> Frame:
        return self.frames[ROOT]

    def to_json(self) -> JSONObject:
        out = self._head()
        out["frames"] = [f.to_json() for f in self.frames.values()]
        return out

    def to_stored(self) -> tuple[str, list[tuple[str, str]]]:
        """The snapshot as JSON text, and the parts it names that its last snapshot did not
        (name, text), for the store to keep with it: read back with those parts,
        :meth:`from_json` restores what ``to_json`` holds.

        A payload this state wrote in its last snapshot (the same object: payloads are never
        changed in place) is not encoded again: its text (or its part) is reused. A Map's
        items and input are the same objects from its first step to its last, and its
        ``results`` only grow: each new entry is one part. Encoding and then writing them at
        every step made a durable Map's per-item cost and bytes grow with its size (issue 16).
        """
        old = self.texts
        new: dict[int, tuple[Any, str, int, str | None]] = {}
        written: list[tuple[str, str]] = []
        fragment = json_text.Fragment
        dumps = json_text.dumps

        def payload(value: JSON, name: str, refs: dict[str, Any]) -> Any:
            if not isinstance(value, list | dict):
                return fragment(dumps(value))
            key = id(value)
            hit = new.get(key) or old.get(key)
            if hit is None or hit[0] is not value:
                text = dumps(value)
                part = _payload_part(text) if len(text) >= PART_MIN_CHARS else None
                if part is not None:  # the part's name is all the next snapshot needs
                    written.append((part, text))
                    text = ""
                hit = (value, text, 0, part)
            new[key] = hit
            if hit[3] is None:
                return fragment(hit[1])
            refs[name] = hit[3]
            return None

        def results(frame: Frame, refs: dict[str, Any]) -> None:
            value = frame.results
            hit = old.get(id(value))
            count = len(value)
            if hit is None or hit[0] is not value or hit[2] > count or hit[3] is None:
                # Results the last snapshot did not name: parts of a slot no snapshot of this
                # execution used before.
                slot, done = self.slots, 0
                self.slots += 1
            else:  # entries are only ever added: the new ones are the last ones
                slot, done = int(hit[3]), hit[2]
            if count > done:
                added = list(itertools.islice(reversed(value.items()), count - done))
                for position, (k, v) in enumerate(reversed(added), done):
                    text = f"{json_text.encode_key(k)}:{dumps(v)}"
                    written.append((_result_part(slot, position), text))
            new[id(value)] = (value, "", count, str(slot))
            refs["results"] = [slot, count]

        frames: list[dict[str, Any]] = []
        for f in self.frames.values():
            if not _finite(f.heartbeat_seconds) or not _finite(f.tolerated_percentage):
                return self._inline()  # written as json writes them
            out: dict[str, Any] = dict(zip(_FRAME_NAMES, _frame_values(f), strict=True))
            refs: dict[str, Any] = {}
            if f.entered_time is not None:
                out["entered_time"] = f.entered_time.isoformat()
            out["input"] = payload(f.input, "input", refs)
            items = f.items
            alias = items is not None and items is f.input
            out["items"] = _ITEMS_ARE_INPUT if alias else payload(items, "items", refs)
            out["scratch"] = payload(f.scratch, "scratch", refs)
            out["output"] = payload(f.output, "output", refs)
            # Variables are encoded afresh: they are small, and a frame's own dict (to_json
            # copies it), so it is not assumed to stay unchanged as payloads do.
            out["variables"] = fragment(dumps(f.variables)) if f.variables else {}
            out["results"] = {}
            if f.results:
                results(f, refs)
            if refs:
                out["refs"] = refs
            frames.append(out)
        head: dict[str, Any] = self._head()
        refs = {}
        head["input"] = payload(self.input, "input", refs)
        head["output"] = payload(self.output, "output", refs)
        if refs:
            head["refs"] = refs
        head["frames"] = frames
        text = json_text.dumps_with_fragments(head)
        if text is None:  # a string orjson refuses (in an error, say): the general way
            return self._inline()
        self.texts = new
        self.texts_chars = sum(len(hit[1]) for hit in new.values())
        return text, written

    def _inline(self) -> tuple[str, list[tuple[str, str]]]:
        """The snapshot written whole (no parts), as the json module writes it. The next
        :meth:`to_stored` starts afresh: every payload it writes is new to it."""
        self.texts, self.texts_chars = {}, 0
        return json_text.dumps(self.to_json()), []

    def _head(self) -> JSONObject:
        """The snapshot but its frames."""
        ctx = self.context
        return {
            "version": SNAPSHOT_VERSION,
            "context": {
                "execution_arn": ctx.execution_arn,
                "execution_name": ctx.execution_name,
                "state_machine_arn": ctx.state_machine_arn,
                "state_machine_name": ctx.state_machine_name,
                "start_time": ctx.start_time.isoformat(),
                "role_arn": ctx.role_arn,
                "redrive_count": ctx.redrive_count,
                "seed": ctx.seed,
            },
            "input": self.input,
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "next_event_id": self.next_event_id,
            "last_event_id": self.last_event_id,
            "frames": [],
            "waiting": dict(self.waiting),
            "execution_timer": self.execution_timer,
            "slots": self.slots,
        }

    @classmethod
    def from_json(cls, data: JSONObject, parts: Parts | None = None) -> ExecutionState:
        """A state from its snapshot, of this or any earlier ``SNAPSHOT_VERSION``; ``parts``
        reads the parts it names (:meth:`to_stored`), if it names any."""
        data = upgrade_snapshot(data)
        reader = _PartReader(parts)
        data = reader.resolve(data)
        c = cast(dict[str, Any], data["context"])
        context = ExecutionContext(
            execution_arn=c["execution_arn"],
            execution_name=c["execution_name"],
            state_machine_arn=c["state_machine_arn"],
            state_machine_name=c["state_machine_name"],
            start_time=datetime.fromisoformat(c["start_time"]),
            role_arn=c["role_arn"],
            redrive_count=c["redrive_count"],
            seed=c["seed"],
        )
        frames = [
            Frame.from_json(reader.resolve(cast(JSONObject, f)))
            for f in cast(list[JSON], data["frames"])
        ]
        return cls(
            context=context,
            input=data["input"],
            status=cast(ExecutionStatus, data["status"]),
            output=data["output"],
            error=cast("str | None", data["error"]),
            cause=cast("str | None", data["cause"]),
            next_event_id=cast(int, data["next_event_id"]),
            last_event_id=cast(int, data["last_event_id"]),
            frames={f.id: f for f in frames},
            waiting=cast(dict[str, str], data["waiting"]),
            execution_timer=cast("str | None", data["execution_timer"]),
            slots=cast(int, data["slots"]),
            texts=reader.texts,
            texts_chars=sum(len(hit[1]) for hit in reader.texts.values()),
        )

    def copy(self) -> ExecutionState:
        """An independent copy (through JSON, so it is exactly what a snapshot restores)."""
        return ExecutionState.from_json(self.to_json())


def new_state(context: ExecutionContext, input: JSON, root: Frame) -> ExecutionState:
    """The state ``ExecutionState(context, input, frames={ROOT: root})`` makes, every other
    field at its default (a test checks each field), set slot by slot: as :func:`new_frame`,
    ~1.5k instructions less than ``__init__`` (callgrind). One per execution."""
    st = _new(ExecutionState)
    st.context = context
    st.input = input
    st.status = "RUNNING"
    st.output = None
    st.error = None
    st.cause = None
    st.next_event_id = 1
    st.last_event_id = 0
    st.frames = {ROOT: root}
    st.waiting = {}
    st.execution_timer = None
    st.slots = 0
    st.texts = {}
    st.texts_chars = 0
    return st
