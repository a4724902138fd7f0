"""The web console in real headless Chromium (Debian's ``/usr/bin/chromium``, driven by
Playwright for Python through ``executable_path``: no browser download) against real servers:

- most tests use the eltflow Server (worker + HTTP API + console) in this process, over a
  SQLite store on a free loopback port, with Python task functions the tests control;
- the reference pipeline runs against a real ``eltflow serve`` subprocess on a PostgreSQL
  state store and warehouse (the test injects the failure through the Data API from this
  process, which a DuckDB file held by the server would not allow).

Each test saves PNGs of its key moments under ``test-artifacts/console/`` at the repository
root. Skips when Chromium is not installed, except in CI (``CI=true``), where that is a
failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import (
    APIResponse,
    Browser,
    Locator,
    Page,
    Route,
    expect,
    sync_playwright,
)
from tests.support.wait import wait_until

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.pipelines.reference import ReferenceConfig
from eltflow.serve import Server
from eltflow.types import JSON

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
# Generous: the machine has two cores shared with other test runs.
TIMEOUT_MS = 30_000
PIPELINE_TIMEOUT_MS = 120_000

FN = "arn:aws:lambda:us-east-1:123456789012:function:"
FLAKY, GATED, ONCE = FN + "flaky", FN + "gated", FN + "fails-once"

# Task fails, the Catch records it and the execution ends in a Fail state; Publish is never
# reached: one graph with all four colours.
CAUGHT_THEN_FAIL = {
    "StartAt": "Load",
    "States": {
        "Load": {
            "Type": "Task",
            "Resource": FLAKY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Record"}],
            "Next": "Publish",
        },
        "Publish": {"Type": "Pass", "End": True},
        "Record": {"Type": "Pass", "Next": "Failed"},
        "Failed": {"Type": "Fail", "Error": "LoadFailed", "Cause": "the load failed"},
    },
}
LOAD_THEN_PUBLISH = {
    "StartAt": "Load",
    "States": {
        "Load": {"Type": "Task", "Resource": FLAKY, "ResultPath": "$.load", "Next": "Publish"},
        "Publish": {"Type": "Pass", "End": True},
    },
}
GATED_CHAIN = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Slow"},
        "Slow": {"Type": "Task", "Resource": GATED, "ResultPath": "$.slow", "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}
LONG_WAIT = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}}
PASS = {
    "StartAt": "Hello",
    "States": {"Hello": {"Type": "Pass", "Result": "world", "ResultPath": "$.hello", "End": True}},
}
# The graph's outline colours (style.css): green, red, orange, grey.
GREEN, RED, ORANGE, GREY = (
    "rgb(29, 129, 2)",
    "rgb(209, 50, 18)",
    "rgb(236, 114, 17)",
    "rgb(170, 183, 184)",
)


# -- the browser -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module (Debian's, not a Playwright download)."""
    if not os.path.exists(CHROMIUM):
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {problem}")
        pytest.skip(problem)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh context (own storage) per test; on failure its last screen is kept too."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            _save(tab, request.node.name, "failure")
        context.close()


def _save(page: Page, test: str, moment: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{test}--{moment}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Screen:
    """The page of one test, with helpers that read what the console shows."""

    page: Page
    base: str
    test: str
    shots: int = 0

    def open(self, fragment: str) -> None:
        if not self.page.url.startswith(self.base):
            self.page.goto(f"{self.base}/#{fragment}")
            return
        # On the console already: a hash-only goto returns before the app's hashchange handler
        # has run, so a locator could find (and act on) the previous page's form, whose change
        # handler then routes away again. Empty the page as the hash changes: what a locator
        # finds next is the new page's. (The same hash is no navigation: the page stays.)
        self.page.evaluate(
            """h => { if (decodeURI(location.hash) !== decodeURI(h)) {
                document.getElementById("app").replaceChildren(); location.hash = h; } }""",
            f"#{fragment}",
        )

    def node(self, state: str) -> Locator:
        return self.page.locator(f"g.node[data-state='{state}']")

    def expect_nodes(self, expected: dict[str, str], timeout: float | None = None) -> None:
        for state, status in expected.items():
            expect(self.node(state)).to_have_attribute("data-status", status, timeout=timeout)

    def stroke(self, state: str) -> str:
        return str(self.node(state).locator("rect").evaluate("r => getComputedStyle(r).stroke"))

    def header(self) -> Locator:
        return self.page.locator("h1 .status")

    def shot(self, moment: str) -> Path:
        """Keep a PNG of this moment as a test artifact (numbered in the order taken)."""
        self.shots += 1
        path = _save(self.page, self.test, f"{self.shots:02d}-{moment}")
        assert path.stat().st_size > 10_000, path  # a rendered page, not a blank one
        return path

    def exhibit(self, name: str) -> Path:
        """Keep a PNG under a fixed name (``test-artifacts/console/NAME.png``): the screenshots
        the issue asks for, found without knowing which test took them."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000, path
        return path

    def accept_next_dialog(self) -> None:
        self.page.once("dialog", lambda dialog: dialog.accept())

    def start_from_form(self, machine: str, payload: str) -> str:
        """Start an execution from the machine page; returns its ARN once its page opened."""
        self.open(f"/machine/{quote(machine, safe='')}")
        box = self.page.locator("#start-input")
        box.fill(payload)
        self.page.locator("#btn-start").click()
        self.page.wait_for_url(re.compile(r"#/execution/"))
        arn = str(self.page.evaluate("decodeURIComponent(location.hash.slice(12))"))
        assert arn.startswith("arn:aws:states:"), arn
        return arn


def _screen(page: Page, base: str, request: pytest.FixtureRequest) -> Screen:
    test = request.node.name
    for old in ARTIFACTS.glob(f"{test}--*.png"):
        old.unlink(missing_ok=True)
    return Screen(page=page, base=base, test=test)


def _execution_page(arn: str) -> str:
    return f"/execution/{quote(arn, safe='')}"


# -- an in-process server with task functions the tests control --------------------------------
@dataclass
class Tasks:
    """The task functions' switches: ``broken`` makes flaky fail; ``gate`` holds gated;
    fails-once fails the first call for each ``key``."""

    broken: bool = True
    gate: threading.Event = field(default_factory=threading.Event)
    tried: set[str] = field(default_factory=set)

    def fails_once(self, params: JSON) -> JSON:
        key = str(params.get("key")) if isinstance(params, dict) else ""
        if key not in self.tried:
            self.tried.add(key)
            raise RuntimeError("the first try fails")
        return {"tries": 2}

    def flaky(self, params: JSON) -> JSON:
        if self.broken:
            raise RuntimeError("warehouse unavailable")
        return {"rows": 42}

    def gated(self, params: JSON) -> JSON:
        if not self.gate.wait(30):
            raise TimeoutError("the test never opened the gate")
        return {"waited": True}


@dataclass
class Console:
    app: App
    base: str
    tasks: Tasks

    def machine(self, name: str, definition: dict[str, Any]) -> None:
        self.app.service.create_state_machine(name=name, definition=definition)

    def start(self, machine: str, payload: dict[str, Any] | None = None) -> str:
        out = self.app.service.start_execution(
            state_machine_arn=machine, input=json.dumps(payload or {})
        )
        arn = out["executionArn"]
        assert isinstance(arn, str)
        return arn

    def status(self, arn: str) -> str:
        return str(self.app.service.describe_execution(execution_arn=arn)["status"])

    def wait_for_status(self, arn: str, status: str, timeout: float = 30) -> None:
        wait_until(
            lambda: self.status(arn) == status, timeout, what=f"{arn} to be {status}", interval=0.05
        )


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("console")
    # A project with an audit table, so the jobs page has a real DynamoDB-style table.
    (folder / "eltflow.toml").write_text(
        '[tables.JobAudit]\npartition_key = "JobID"\n\n'
        '[lambda.functions]\nchatty = "console_handlers:chatty"\n'
        'counter = "console_handlers:counter"\n'
        'loader = "console_handlers:loader"\n\n'
        # A topic with a subscription, for the topics page.
        '[topics.alerts]\nsubscriptions = [{ protocol = "file", endpoint = "alerts.jsonl" }]\n'
    )
    # A handler module in the project folder (on the handlers' import path): its output is
    # the execution's Logs tab, its SQL the SQL tab.
    shutil.copy(Path(__file__).with_name("console_handlers.py"), folder)
    app = build_app(load_settings(folder, environ={}))
    tasks = Tasks()
    app.register(FLAKY, tasks.flaky)
    app.register(GATED, tasks.gated)
    app.register(ONCE, tasks.fails_once)
    server = Server(
        app, port=0, scheduler=False, worker_options={"poll_seconds": 0.05, "lease_seconds": 10}
    )
    try:
        with server.running():
            try:
                yield Console(app=app, base=server.url, tasks=tasks)
            finally:
                tasks.gate.set()  # before the server waits for in-flight tasks
    finally:
        app.close()


@pytest.fixture
def screen(console: Console, page: Page, request: pytest.FixtureRequest) -> Screen:
    return _screen(page, console.base, request)


def test_executions_list_shows_a_started_execution_and_its_status(
    console: Console, screen: Screen
) -> None:
    console.machine("hello", PASS)
    arn = console.start("hello")
    console.wait_for_status(arn, "SUCCEEDED")
    screen.open("/executions")
    row = screen.page.locator(f'tr[data-arn="{arn}"]')
    expect(row).to_contain_text("SUCCEEDED")
    expect(row).to_contain_text("hello")
    screen.shot("list")
    # The status filter narrows the list (the page keeps it in the URL).
    screen.open("/executions?status=FAILED")
    expect(screen.page.locator("#executions")).to_contain_text("No executions")
    expect(screen.page.locator("#f-status")).to_have_value("FAILED")


def test_execution_graph_colours_states_by_status(console: Console, screen: Screen) -> None:
    console.tasks.broken = True
    console.machine("caught", CAUGHT_THEN_FAIL)
    arn = console.start("caught", {"JobID": "101"})
    console.wait_for_status(arn, "FAILED")
    screen.open(_execution_page(arn))
    expected = {
        "Load": "CAUGHT",
        "Record": "SUCCEEDED",
        "Failed": "FAILED",
        "Publish": "NOT_REACHED",
    }
    screen.expect_nodes(expected)
    # The colours the legend promises: green, red, orange, grey outlines.
    assert {s: screen.stroke(s) for s in expected} == {
        "Load": ORANGE,
        "Record": GREEN,
        "Failed": RED,
        "Publish": GREY,
    }
    expect(screen.header()).to_have_text("FAILED")
    expect(screen.page.locator("#exec-error")).to_contain_text("LoadFailed")
    # Selecting the caught state shows its error and input.
    screen.node("Load").click()
    detail = screen.page.locator("#state-detail")
    expect(detail).to_contain_text("warehouse unavailable")
    expect(detail).to_contain_text("JobID")
    assert "null" not in detail.inner_text().splitlines()[:3]  # no stray placeholder
    screen.shot("caught-failed")


def test_live_refresh_turns_a_running_execution_green(console: Console, screen: Screen) -> None:
    console.tasks.gate.clear()
    console.machine("gated", GATED_CHAIN)
    arn = console.start("gated")
    screen.open(_execution_page(arn))
    screen.expect_nodes({"Slow": "RUNNING", "Prepare": "SUCCEEDED", "Done": "NOT_REACHED"})
    expect(screen.header()).to_have_text("RUNNING")
    assert screen.stroke("Slow") == "rgb(0, 115, 187)"  # blue
    screen.shot("running")
    screen.page.evaluate("window.__sameDocument = true")
    console.tasks.gate.set()
    expect(screen.header()).to_have_text("SUCCEEDED")
    screen.expect_nodes({"Done": "SUCCEEDED", "Slow": "SUCCEEDED"})
    assert screen.page.evaluate("window.__sameDocument") is True  # no reload
    screen.shot("succeeded")


def test_stop_button_aborts_a_running_execution(console: Console, screen: Screen) -> None:
    console.machine("napping", LONG_WAIT)
    arn = console.start("napping")
    screen.open(_execution_page(arn))
    expect(screen.node("Nap")).to_have_attribute("data-status", "RUNNING")
    button = screen.page.locator("#btn-stop")
    expect(button).to_be_enabled()
    button.click()
    expect(screen.header()).to_have_text("ABORTED")
    expect(screen.node("Nap")).to_have_attribute("data-status", "ABORTED")
    assert console.status(arn) == "ABORTED"
    screen.shot("aborted")


def test_a_slow_refresh_answer_never_paints_over_a_newer_one(
    console: Console, screen: Screen
) -> None:
    """A live-refresh tick still waiting for its answer when Stop is pressed must not repaint
    the execution as RUNNING (nor restart the live refresh) once that stale answer arrives."""
    console.machine("slow-answer", LONG_WAIT)
    arn = console.start("slow-answer")
    held: list[tuple[Route, APIResponse]] = []

    def hold_one_describe(route: Route) -> None:
        # Answered now (RUNNING), delivered when the test says: a slow server or network.
        if held or route.request.method != "GET":
            route.continue_()
        else:
            held.append((route, route.fetch()))

    screen.open(_execution_page(arn))
    expect(screen.node("Nap")).to_have_attribute("data-status", "RUNNING")
    screen.page.route(re.compile(r"/api/executions/[^/?]+$"), hold_one_describe)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not held:  # the next live-refresh tick (every second while RUNNING)
        assert time.monotonic() < deadline, "no live refresh while the execution runs"
        screen.page.wait_for_timeout(50)
    screen.page.locator("#btn-stop").click()
    expect(screen.header()).to_have_text("ABORTED")
    route, stale = held[0]
    with screen.page.expect_request_finished(lambda r: r is route.request):
        route.fulfill(response=stale)
    screen.page.evaluate("() => new Promise(done => setTimeout(done, 100))")  # let it land
    assert screen.header().inner_text() == "ABORTED"
    assert screen.node("Nap").get_attribute("data-status") == "ABORTED"
    expect(screen.page.locator("#live")).not_to_have_class(re.compile(r"\bon\b"))
    screen.page.unroute_all()


def test_redrive_button_after_fixing_the_task(console: Console, screen: Screen) -> None:
    console.tasks.broken = True
    console.machine("redrive", LOAD_THEN_PUBLISH)
    arn = console.start("redrive")
    console.wait_for_status(arn, "FAILED")
    screen.open(_execution_page(arn))
    expect(screen.node("Load")).to_have_attribute("data-status", "FAILED")
    expect(screen.page.locator("#btn-stop")).to_be_disabled()
    screen.shot("failed")
    console.tasks.broken = False  # "fix the task"
    screen.page.locator("#btn-redrive").click()
    expect(screen.header()).to_have_text("SUCCEEDED")
    screen.expect_nodes({"Publish": "SUCCEEDED", "Load": "SUCCEEDED"})
    described = console.app.service.describe_execution(execution_arn=arn)
    assert described["redriveCount"] == 1
    assert json.loads(str(described["output"])) == {"load": {"rows": 42}}
    screen.shot("redriven")


def test_start_form_rejects_bad_json_then_opens_the_new_execution(
    console: Console, screen: Screen
) -> None:
    console.machine("starter", PASS)
    problems: list[str] = []  # what the browser reports: failed loads (a favicon...), JS errors
    screen.page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    screen.page.on("pageerror", lambda e: problems.append(str(e)))
    screen.open("/machine/starter")
    box = screen.page.locator("#start-input")
    expect(screen.page.locator("#definition")).to_contain_text("Hello")
    expect(screen.node("Hello")).to_have_attribute("data-status", "NOT_REACHED")
    box.fill('{"JobID": 101,')
    screen.page.locator("#btn-start").click()
    error = screen.page.locator("#start-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("not valid JSON")
    screen.shot("bad-json")
    assert console.app.service.list_executions(state_machine_arn="starter")["executions"] == []

    box.fill('{"JobID": 101}')
    screen.page.locator("#btn-start").click()
    screen.page.wait_for_url(re.compile(r"#/execution/"))
    expect(screen.header()).to_have_text("SUCCEEDED")
    listed = console.app.service.list_executions(state_machine_arn="starter")["executions"]
    assert isinstance(listed, list) and len(listed) == 1
    arn = listed[0]["executionArn"]  # type: ignore[index,call-overload]
    assert quote(str(arn), safe="") in screen.page.url
    described = console.app.service.describe_execution(execution_arn=str(arn))
    assert json.loads(str(described["input"])) == {"JobID": 101}
    expect(screen.node("Hello")).to_have_attribute("data-status", "SUCCEEDED")

    # The next start begins from the input of the machine's last execution.
    screen.open("/machine/starter")
    expect(screen.page.locator("#start-input-from a")).to_have_text(str(arn).split(":")[-1])
    assert json.loads(box.input_value()) == {"JobID": 101}
    screen.shot("prefilled")
    assert problems == [], problems


def test_jobs_page_resets_a_stuck_job(console: Console, screen: Screen) -> None:
    assert console.app.items is not None
    console.app.items.call(
        "PutItem",
        {
            "TableName": "JobAudit",
            "Item": {
                "JobID": {"S": "101"},
                "JobState": {"S": "Running"},
                "JobStart": {"S": "2026-11-28T01:00:00+00:00"},
            },
        },
    )
    screen.open("/jobs")
    # The state cell, not the whole table: the reset button's own label says "Reset to Ready",
    # so waiting for "Ready" anywhere in the table passed before the reset had landed.
    state_cell = (
        screen.page.locator("#jobs tr")
        .filter(has=screen.page.locator('button[data-job="101"]'))
        .locator("td")
        .nth(2)
    )
    expect(state_cell).to_contain_text("Running")
    screen.shot("stuck")
    screen.accept_next_dialog()
    screen.page.locator('button[data-job="101"]').click()
    expect(state_cell).to_contain_text("Ready")
    assert console.app.items is not None
    item = console.app.items.call(
        "GetItem", {"TableName": "JobAudit", "Key": {"JobID": {"S": "101"}}}
    )
    assert item["Item"]["JobState"] == {"S": "Ready"}


def test_token_protected_console_asks_for_the_token(console: Console, page: Page) -> None:
    guarded = Server(console.app, port=0, token="open-sesame", scheduler=False)
    with guarded.running():
        page.goto(f"{guarded.url}/#/executions")
        form = page.locator("#token-form")
        expect(form).to_contain_text("requires a token")
        page.locator("#token-input").fill("wrong")
        page.locator("#btn-token").click()
        expect(form).to_contain_text("refused")
        page.locator("#token-input").fill("open-sesame")
        page.locator("#btn-token").click()
        # An execution started by an earlier test (the module shares one server).
        expect(page.locator("#executions")).to_contain_text("hello")


def test_schedules_page_shows_next_fires_and_pauses(console: Console, screen: Screen) -> None:
    from eltflow.scheduler.model import Schedule
    from eltflow.scheduler.store import ScheduleStore

    console.machine("scheduled", PASS)
    ScheduleStore(console.app.db).create(
        Schedule(name="nightly", expression="cron(30 2 * * ? *)", state_machine="scheduled"),
        console.app.clock.now(),
    )
    screen.open("/schedules")
    row = screen.page.locator('tr[data-schedule-row="nightly"]')
    expect(row).to_contain_text("cron(30 2 * * ? *)")
    expect(row).to_contain_text("ENABLED")
    expect(row).to_contain_text("none yet")
    expect(row.locator("td:nth-child(5) div")).to_have_count(3)  # the next three fire times
    screen.shot("enabled")
    toggle = screen.page.locator('button[data-schedule="nightly"]')
    toggle.click()
    expect(row).to_contain_text("DISABLED")
    assert ScheduleStore(console.app.db).get("nightly").state.value == "DISABLED"
    toggle.click()
    expect(row).to_contain_text("ENABLED")


# -- the reference pipeline against a real `eltflow serve` -------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Reference:
    """A reference-pipeline project served by an ``eltflow serve`` subprocess."""

    app: App  # this process's view of the same stores (PostgreSQL), for the Data API
    config: ReferenceConfig
    base: str
    log: Path

    def sql(self, *statements: str) -> None:
        from eltflow.pipelines.reference.project import run_batch

        run_batch(self.app.dataapi, self.config, list(statements))

    def job(self) -> dict[str, Any]:
        from eltflow.pipelines import jobs

        assert self.app.items is not None
        rows = jobs.list_jobs(self.app.items)
        return next(j for j in rows if str(j.get("JobID")) == self.config.job_id)


def _wait_listening(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    def listening() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"eltflow serve exited early:\n{log.read_text()}")
        try:
            httpx.get(f"{base}/api/openapi.json", timeout=2)
        except httpx.TransportError:
            return False
        return True

    wait_until(listening, 60, what="eltflow serve to listen", interval=0.1)


@pytest.fixture
def reference(pg_url: str, tmp_path: Path) -> Iterator[Reference]:
    """Set up like tests/integration/pipelines/test_pipeline_reference.py (TPC-H SF 0.01 in
    staging, targets, audit item, state machine), with PostgreSQL as state store and
    warehouse, then ``eltflow serve`` on a free loopback port."""
    from eltflow.pipelines.reference import settings_for
    from eltflow.pipelines.reference.project import ensure_config, load_staging, prepare

    folder = tmp_path / "reference"
    ensure_config(folder)
    toml = folder / "eltflow.toml"
    stores = f'state = "{pg_url}"\nwarehouse = "{pg_url}"\n'
    toml.write_text(stores + toml.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(folder, environ={})
    config = settings_for(settings)
    load_staging(settings, config, 0.01)
    app = build_app(settings)
    try:
        prepare(app, config)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = tmp_path / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ELTFLOW_")}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*SERVE, str(folder), "serve", "--host", "127.0.0.1", "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            _wait_listening(proc, base, log)
            yield Reference(app=app, config=config, base=base, log=log)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    finally:
        app.close()


SERVE = (sys.executable, "-m", "eltflow", "--project-dir")
LOADED = ("AcquireLock", "LoadSupplierDim", "LoadCustomerDim", "LoadFact", "ReleaseLock")


def test_reference_pipeline_from_the_console(
    reference: Reference, page: Page, request: pytest.FixtureRequest
) -> None:
    """Start it from the machine page and watch it turn green; break the fact load and see
    the last attempt fail red; repair, redrive from the button, see it succeed; reset a stuck
    job from the jobs page."""
    screen = _screen(page, reference.base, request)
    machine = reference.config.state_machine
    payload = json.dumps({"JobID": reference.config.job_id})
    slow = PIPELINE_TIMEOUT_MS

    # 1. Start from the state machine page; the states turn green.
    screen.open(f"/machine/{machine}")
    expect(screen.node("LoadFact")).to_have_attribute("data-status", "NOT_REACHED")
    screen.shot("machine-page")
    first = screen.start_from_form(machine, payload)
    expect(screen.header()).to_have_text("SUCCEEDED", timeout=slow)
    screen.expect_nodes(dict.fromkeys((*LOADED, "RecordSuccess", "NotifySuccess"), "SUCCEEDED"))
    screen.expect_nodes(dict.fromkeys(("MarkJobFailed", "RetryLoadFact"), "NOT_REACHED"))
    assert screen.stroke("LoadFact") == GREEN
    # LoadFact -> ReleaseLock skips the failure chain's layers: it must go around them.
    expect(
        screen.page.locator("path.edge[data-from='LoadFact'][data-to='ReleaseLock']")
    ).to_have_count(1)
    assert _edges_under_states(screen.page) == []
    screen.shot("succeeded")
    assert reference.job()["JobState"] == "Ready"

    # 2. Break the fact load's input through the Data API: LoadFact's failure is caught
    # (orange), recorded, and the last attempt in RetryLoadFact fails the execution (red).
    reference.sql("ALTER TABLE staging.orders RENAME TO orders_missing")
    broken = screen.start_from_form(machine, payload)
    assert broken != first
    expect(screen.header()).to_have_text("FAILED", timeout=slow)
    screen.expect_nodes(
        {
            "LoadSupplierDim": "SUCCEEDED",
            "LoadCustomerDim": "SUCCEEDED",
            "LoadFact": "CAUGHT",
            "MarkJobFailed": "SUCCEEDED",
            "NotifyJobFailed": "SUCCEEDED",
            "RecordJobFailure": "SUCCEEDED",
            "RetryLoadFact": "FAILED",
            "ReleaseLock": "NOT_REACHED",
            "JobFailed": "NOT_REACHED",
        }
    )
    assert (screen.stroke("LoadFact"), screen.stroke("RetryLoadFact")) == (ORANGE, RED)
    # The Lambda error object's message, not its JSON with a stack trace.
    cause = screen.page.locator("#exec-error .cause")
    expect(cause).to_contain_text('relation "staging.orders" does not exist')
    expect(cause).not_to_contain_text("stackTrace")
    expect(screen.page.locator("#exec-error details")).to_contain_text("stackTrace")
    expect(screen.page.locator("#btn-redrive")).to_be_enabled()
    screen.node("RetryLoadFact").click()
    # The run's own error comes first; the state's logs and SQL below it may show theirs too.
    expect(screen.page.locator("#state-detail .run-error").first).to_contain_text("orders")
    screen.shot("fact-failed")
    history = reference.app.service.get_execution_history(execution_arn=broken, max_results=1000)
    events = history["events"]
    assert isinstance(events, list)
    _check_states_and_events_tabs(screen, len(events))
    screen.page.locator('button[data-tab="graph"]').click()
    assert reference.job()["JobState"] == "Failed"

    # 3. Repair, then redrive from the button: only RetryLoadFact and what follows run again.
    reference.sql("ALTER TABLE staging.orders_missing RENAME TO orders")
    screen.page.locator("#btn-redrive").click()
    expect(screen.header()).to_have_text("SUCCEEDED", timeout=slow)
    screen.expect_nodes(
        {
            "RetryLoadFact": "SUCCEEDED",
            "ReleaseLock": "SUCCEEDED",
            "NotifySuccess": "SUCCEEDED",
            "LoadFact": "CAUGHT",  # the first attempt's failure stays in the history
            "JobFailed": "NOT_REACHED",
        }
    )
    assert screen.stroke("RetryLoadFact") == GREEN
    expect(screen.page.locator("#app")).to_contain_text("Redrives: 1")
    screen.shot("redriven")
    described = reference.app.service.describe_execution(execution_arn=broken)
    assert described["status"] == "SUCCEEDED" and described["redriveCount"] == 1
    assert reference.job()["JobState"] == "Ready"

    # 4. A crashed run left the job Running with a live lease: a new run skips it; the jobs
    # page resets it to Ready.
    assert reference.app.items is not None
    reference.app.items.call(
        "UpdateItem",
        {
            "TableName": reference.config.audit_table,
            "Key": {"JobID": {"S": reference.config.job_id}},
            "UpdateExpression": "SET JobState = :running, LeaseUntil = :lease",
            "ExpressionAttributeValues": {
                ":running": {"S": "Running"},
                ":lease": {"S": "2999-01-01T00:00:00Z"},
            },
        },
    )
    screen.start_from_form(machine, payload)
    expect(screen.header()).to_have_text("SUCCEEDED", timeout=slow)
    screen.expect_nodes({"RecordSkipped": "SUCCEEDED", "AcquireLock": "NOT_REACHED"})
    # SUCCEEDED as on AWS, flagged as the skipped run it was (the pipeline's own output).
    expect(screen.page.locator("h1 .flag.skipped")).to_have_text("skipped")
    screen.open("/jobs")
    jobs = screen.page.locator("#jobs")
    expect(jobs).to_contain_text("Running")
    expect(jobs).to_contain_text("2999-01-01")
    expect(screen.page.locator("#runs")).to_contain_text("SKIPPED")
    screen.shot("jobs-stuck")
    screen.accept_next_dialog()
    screen.page.locator(f'button[data-job="{reference.config.job_id}"]').click()
    expect(jobs).to_contain_text("Ready")
    expect(jobs).not_to_contain_text("Running")
    screen.shot("jobs-reset")
    job = reference.job()
    assert job["JobState"] == "Ready" and "LeaseUntil" not in job


# Samples each edge along its length; returns [from, to, state] where an edge runs under a
# state's box other than its own ends (containers hold their branches' edges, so skipped).
_UNDER_STATES_JS = """() => {
  const boxes = [...document.querySelectorAll('g.node:not(.container)')].map(g => {
    const r = g.querySelector('rect');
    return {name: g.dataset.state, x: +r.getAttribute('x'), y: +r.getAttribute('y'),
            w: +r.getAttribute('width'), h: +r.getAttribute('height')};
  });
  const hits = [];
  for (const p of document.querySelectorAll('path.edge')) {
    const from = p.dataset.from, to = p.dataset.to, len = p.getTotalLength();
    for (const b of boxes) {
      if (b.name === from || b.name === to) continue;
      for (let i = 1; i < 40; i++) {
        const pt = p.getPointAtLength(len * i / 40);
        if (pt.x > b.x + 2 && pt.x < b.x + b.w - 2 && pt.y > b.y + 2 && pt.y < b.y + b.h - 2) {
          hits.push([from, to, b.name]);
          break;
        }
      }
    }
  }
  return hits;
}"""


def _edges_under_states(page: Page) -> list[list[str]]:
    hits = page.evaluate(_UNDER_STATES_JS)
    assert isinstance(hits, list)
    return hits


def _check_states_and_events_tabs(screen: Screen, events: int) -> None:
    """The States tab lists each state run with its status; the Events tab pages by 25."""
    page = screen.page
    page.locator('button[data-tab="table"]').click()
    rows = page.locator("#state-table tbody tr")
    expect(rows.filter(has_text="LoadFact").first).to_contain_text("CAUGHT")
    expect(rows.filter(has_text="LoadSupplierDim").first).to_contain_text("SUCCEEDED")
    expect(rows.filter(has_text="RetryLoadFact")).to_contain_text("FAILED")
    screen.shot("states-tab")
    page.locator('button[data-tab="events"]').click()
    pager = page.locator(".pager")
    assert events > 25
    pages = -(-events // 25)
    expect(pager).to_contain_text(f"Page 1 of {pages} · {events} events")
    expect(page.locator("#events tbody tr")).to_have_count(25)
    page.locator("#events-next").click()
    expect(pager).to_contain_text(f"Page 2 of {pages}")
    expect(page.locator("#events tbody tr").first.locator("td").first).to_have_text("26")


# -- a data engineer's first hour (issue 15) ---------------------------------------------------
# A Map inside a Parallel inside a Map, with a Choice in the innermost iterations (odd items go
# one way, even ones the other) and a Catch that is never taken.
NESTED = {
    "StartAt": "Before",
    "States": {
        "Before": {"Type": "Pass", "Next": "Batches"},
        "Batches": {
            "Type": "Map",
            "ItemsPath": "$.batches",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Fan",
                "States": {
                    "Fan": {
                        "Type": "Parallel",
                        "Branches": [
                            {
                                "StartAt": "Prep",
                                "States": {
                                    "Prep": {"Type": "Pass", "Next": "Each"},
                                    "Each": {
                                        "Type": "Map",
                                        "ItemsPath": "$.items",
                                        "ItemProcessor": {
                                            "ProcessorConfig": {"Mode": "INLINE"},
                                            "StartAt": "One",
                                            "States": {
                                                "One": {"Type": "Pass", "Next": "Odd?"},
                                                "Odd?": {
                                                    "Type": "Choice",
                                                    "Choices": [
                                                        {
                                                            "Variable": "$.odd",
                                                            "BooleanEquals": True,
                                                            "Next": "OddPath",
                                                        }
                                                    ],
                                                    "Default": "EvenPath",
                                                },
                                                "OddPath": {"Type": "Pass", "End": True},
                                                "EvenPath": {"Type": "Pass", "End": True},
                                            },
                                        },
                                        "End": True,
                                    },
                                },
                            },
                            {"StartAt": "Side", "States": {"Side": {"Type": "Pass", "End": True}}},
                        ],
                        "End": True,
                    }
                },
            },
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
            "Next": "After",
        },
        "Recover": {"Type": "Pass", "End": True},
        "After": {"Type": "Pass", "End": True},
    },
}
# Batch 0 has an odd and an even item, batch 1 one even item.
NESTED_INPUT = {
    "batches": [{"items": [{"odd": True}, {"odd": False}]}, {"items": [{"odd": False}]}]
}
_INNERMOST = {"One", "Odd?", "OddPath", "EvenPath"}
CONTAINERS = {
    "Batches": {"Fan", "Prep", "Each", "Side", *_INNERMOST},
    "Fan": {"Prep", "Each", "Side", *_INNERMOST},
    "Each": _INNERMOST,
}

# The boxes the graph drew: state name -> [x, y, width, height] of its outline, in page pixels.
BOXES_JS = """() => Object.fromEntries([...document.querySelectorAll('#graph g.node')]
  .map(g => { const r = g.querySelector('rect').getBoundingClientRect();
              return [g.dataset.state, [r.x, r.y, r.width, r.height]]; }))"""


def _inside(inner: list[float], outer: list[float]) -> bool:
    return (
        inner[0] >= outer[0]
        and inner[1] >= outer[1]
        and inner[0] + inner[2] <= outer[0] + outer[2]
        and inner[1] + inner[3] <= outer[1] + outer[3]
    )


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _check_nesting(boxes: dict[str, list[float]]) -> None:
    """Nested states lie inside their containers' boxes; no box overlaps another unless one
    contains the other."""
    for parent, children in CONTAINERS.items():
        for child in children:
            assert _inside(boxes[child], boxes[parent]), (child, parent, boxes)
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            nested = b in CONTAINERS.get(a, set()) or a in CONTAINERS.get(b, set())
            assert nested or not _overlap(boxes[a], boxes[b]), (a, b, boxes)


def test_a_map_inside_a_parallel_inside_a_map_is_drawn_inside_its_boxes(
    console: Console, screen: Screen
) -> None:
    console.machine("nested", NESTED)
    arn = console.start("nested", NESTED_INPUT)
    console.wait_for_status(arn, "SUCCEEDED")
    screen.open(_execution_page(arn))
    screen.expect_nodes(
        {"OddPath": "SUCCEEDED", "EvenPath": "SUCCEEDED", "After": "SUCCEEDED"}
        | {"Recover": "NOT_REACHED"}
    )
    expect(screen.page.locator("#graph svg[data-layout=elk]")).to_be_visible()
    boxes: dict[str, list[float]] = screen.page.evaluate(BOXES_JS)
    assert set(boxes) == {"Before", "Batches", "Recover", "After"} | CONTAINERS["Batches"]
    _check_nesting(boxes)
    assert _edges_under_states(screen.page) == []
    # The path taken: the edges this execution followed are drawn bold, the Catch it never
    # took is not.
    taken = screen.page.locator("path.edge.taken")
    taken_pairs = {
        tuple(p) for p in taken.evaluate_all("ps => ps.map(p => [p.dataset.from, p.dataset.to])")
    }
    assert taken_pairs == {
        ("Before", "Batches"),
        ("Batches", "After"),
        ("Prep", "Each"),
        ("One", "Odd?"),
        ("Odd?", "OddPath"),
        ("Odd?", "EvenPath"),
    }, taken_pairs
    expect(screen.page.locator('path.edge.catch[data-to="Recover"]')).not_to_have_class(
        re.compile(r"\btaken\b")
    )
    screen.shot("nested-map-in-parallel")
    screen.exhibit("nested-map-in-parallel")

    # At 800 px the whole graph is scaled into its box, not clipped, and still nests.
    screen.page.set_viewport_size({"width": 800, "height": 900})
    graph = screen.page.locator("#graph")
    expect(graph.locator("svg")).to_be_visible()
    sizes = graph.evaluate("g => [g.scrollWidth, g.clientWidth]")
    assert sizes[0] <= sizes[1], sizes
    page_width = screen.page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 800, page_width
    _check_nesting(screen.page.evaluate(BOXES_JS))
    screen.shot("at-800px")
    # Zooming in magnifies the states (and Fit shows the whole graph again).
    width = screen.node("One").locator("rect").bounding_box()
    assert width is not None
    graph.locator("button.zoom-in").click()
    zoomed = screen.node("One").locator("rect").bounding_box()
    assert zoomed is not None and zoomed["width"] > width["width"] * 1.4, (width, zoomed)
    graph.locator("button.zoom-fit").click()
    fitted = screen.node("One").locator("rect").bounding_box()
    assert fitted is not None and abs(fitted["width"] - width["width"]) < 1, (width, fitted)


def test_the_iteration_picker_shows_one_map_iterations_states(
    console: Console, screen: Screen
) -> None:
    console.machine("picked", NESTED)
    arn = console.start("picked", NESTED_INPUT)
    console.wait_for_status(arn, "SUCCEEDED")
    screen.open(_execution_page(arn))
    # All iterations: batch 0 took both ways, so both are green.
    screen.expect_nodes({"OddPath": "SUCCEEDED", "EvenPath": "SUCCEEDED"})
    picker = screen.page.locator("#iteration-picker")
    # A Map's box is selected by its label (its middle shows the states inside it).
    screen.node("Batches").locator("text.box-label").click()
    expect(picker).to_have_attribute("data-map", "Batches")
    options = picker.locator("option")
    expect(options).to_have_text(["all iterations (2)", "#0 — SUCCEEDED", "#1 — SUCCEEDED"])
    # Batch 1 holds one even item: its odd way was never taken.
    picker.select_option(label="#1 — SUCCEEDED")
    screen.expect_nodes({"OddPath": "NOT_REACHED", "EvenPath": "SUCCEEDED", "Side": "SUCCEEDED"})
    expect(screen.node("Batches").locator("text")).to_contain_text("iteration #1 of 2")
    screen.node("Each").locator("text.box-label").click()
    expect(picker).to_have_attribute("data-map", "Each")
    expect(options).to_have_text(["all iterations (1)", "#0 — SUCCEEDED"])
    # Batch 0, its first item (odd): only the odd way.
    screen.node("Batches").locator("text.box-label").click()
    expect(picker).to_have_attribute("data-map", "Batches")
    picker.select_option(label="#0 — SUCCEEDED")
    expect(screen.node("Batches").locator("text")).to_contain_text("iteration #0 of 2")
    screen.node("Each").locator("text.box-label").click()
    expect(picker).to_have_attribute("data-map", "Each")
    expect(options).to_have_count(3)
    picker.select_option(label="#0 — SUCCEEDED")
    screen.expect_nodes({"OddPath": "SUCCEEDED", "EvenPath": "NOT_REACHED", "One": "SUCCEEDED"})
    expect(screen.page.locator("#iteration-banner")).to_contain_text("Showing Batches #0 > Each #0")
    # The state panel shows that iteration's run only.
    screen.node("One").click()
    expect(screen.page.locator("#state-detail h2")).to_have_text("One")
    runs = screen.page.locator("#state-detail .run")
    expect(runs).to_have_count(1)
    expect(runs).to_contain_text("in Batches #0 > Each #0")
    expect(runs.locator("pre").first).to_contain_text('"odd": true')
    screen.shot("iteration-picked")
    # The same page in the dark colour scheme (kept as dark-mode.png).
    screen.page.emulate_media(color_scheme="dark")
    fill = screen.node("One").locator("text").evaluate("t => getComputedStyle(t).fill")
    assert fill == "rgb(230, 233, 237)", fill
    screen.exhibit("dark-mode")
    screen.page.emulate_media(color_scheme="light")
    # Changing the outer pick drops the inner one (it belonged to the other batch).
    screen.node("Batches").locator("text.box-label").click()
    expect(picker).to_have_attribute("data-map", "Batches")
    picker.select_option(label="#1 — SUCCEEDED")
    screen.expect_nodes({"OddPath": "NOT_REACHED", "EvenPath": "SUCCEEDED"})
    expect(screen.page.locator("#iteration-banner")).to_have_text(
        re.compile(r"^Showing Batches #1 ")
    )
    screen.page.locator("#iterations-all").click()
    screen.expect_nodes({"OddPath": "SUCCEEDED", "EvenPath": "SUCCEEDED"})
    expect(screen.page.locator("#iteration-banner")).to_have_count(0)


RETRIED = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Load"},
        "Load": {
            "Type": "Task",
            "Resource": ONCE,
            "Parameters": {"key.$": "$$.Execution.Name"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            "Next": "Publish",
        },
        "Publish": {"Type": "Pass", "End": True},
    },
}
# Page-pixel left/right and the millisecond offsets of the timeline's bars and attempts.
GANTT_JS = """() => Object.fromEntries([...document.querySelectorAll('#gantt .gantt-row')]
  .map(row => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, from: +e.dataset.startMs, to: +e.dataset.endMs,
            status: e.dataset.status}; };
  return [row.dataset.state, {bar: box(row.querySelector('.gantt-bar')),
          attempts: [...row.querySelectorAll('.gantt-attempt')].map(box)}];
}))"""


def test_the_timeline_draws_each_state_run_and_its_retries(
    console: Console, screen: Screen
) -> None:
    console.machine("retried", RETRIED)
    arn = console.start("retried")
    console.wait_for_status(arn, "SUCCEEDED", timeout=60)
    screen.open(_execution_page(arn))
    screen.page.locator('button[data-tab="timeline"]').click()
    rows = screen.page.locator("#gantt .gantt-row")
    expect(rows).to_have_count(3)
    states = rows.evaluate_all("rs => rs.map(r => [r.dataset.state, r.dataset.status])")
    assert states == [["Prepare", "SUCCEEDED"], ["Load", "SUCCEEDED"], ["Publish", "SUCCEEDED"]]
    gantt = screen.page.evaluate(GANTT_JS)
    load, publish = gantt["Load"], gantt["Publish"]
    # Load's two tries: the failed one, the 1 s Retry interval, the one that succeeded; both
    # on Load's bar, which ends before Publish's starts. Pass states do no work: no attempts.
    first, second = load["attempts"]
    assert (first["status"], second["status"]) == ("FAILED", "SUCCEEDED")
    assert second["from"] - first["to"] >= 999, load  # milliseconds
    assert first["right"] < second["left"], load  # the gap is visible
    assert (
        load["bar"]["left"] <= first["left"] + 0.5 and second["right"] <= load["bar"]["right"] + 2.5
    )
    assert (
        load["bar"]["to"] <= publish["bar"]["from"]
        and load["bar"]["right"] <= publish["bar"]["left"] + 2.5
    )
    assert gantt["Prepare"]["attempts"] == [] and publish["attempts"] == []
    duration = screen.page.locator('#gantt .gantt-row[data-state="Load"] .gantt-dur')
    expect(duration).to_have_text(re.compile(r"^([\d,]+ ms|\d+\.\d{3} s) · 2 tries$"))
    ticks = screen.page.locator("#gantt .gantt-tick").all_inner_texts()
    assert len(ticks) >= 3 and all(re.fullmatch(r"\+[\d,.]+ (ms|s)", t) for t in ticks), ticks
    screen.shot("gantt")
    screen.exhibit("gantt")

    # A row opens its state on the graph.
    rows.filter(has_text="Load").locator(".gantt-label").click()
    expect(screen.page.locator("#state-detail h2")).to_have_text("Load")
    expect(screen.page.locator("#state-detail")).to_contain_text("1 retry")


def test_events_wrap_long_json_with_milliseconds_and_steps(
    console: Console, screen: Screen
) -> None:
    console.tasks.broken = False
    console.machine("wide", LOAD_THEN_PUBLISH)
    escaped = json.dumps({"rows": [{"id": i, "payload": "x" * 40} for i in range(150)]})
    arn = console.start("wide", {"JobID": "101", "blob": escaped})
    console.wait_for_status(arn, "SUCCEEDED")
    screen.open(_execution_page(arn))
    screen.page.locator('button[data-tab="events"]').click()
    events = screen.page.locator("#events")
    expect(events).to_be_visible()
    width = screen.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1400, width  # the viewport: long JSON wraps instead of widening the page
    # A Lambda-ARN Task records LambdaFunction* events, an integration Task* events: both
    # carry no name of their own, and both get their state's.
    task_events = events.locator("tbody tr", has_text=re.compile(r"(Task|LambdaFunction)[A-Z]"))
    task_events = task_events.filter(has_not_text="StateEntered").filter(has_not_text="Exited")
    expect(task_events).to_have_count(3)  # scheduled, started, succeeded
    for step in task_events.locator("td.ev-step").all_inner_texts():
        assert step == "Load", step
    times = events.locator("td.ev-time").all_inner_texts()
    assert times and all(re.search(r"\d{2}:\d{2}:\d{2}\.\d{3}$", t) for t in times), times
    # The escaped input is shown parsed (nested JSON), not as one escaped string.
    started = events.locator("tr", has_text="ExecutionStarted").locator("pre")
    expect(started).to_contain_text('"payload": "xxxx')
    screen.shot("events-wrapped")
    # A state's input and output: pretty-printed JSON that wraps inside its panel.
    screen.page.locator('button[data-tab="graph"]').click()
    screen.node("Load").click()
    state_input = screen.page.locator("#state-detail pre.state-input")
    expect(state_input).to_contain_text('"JobID": "101"')
    assert state_input.evaluate("p => getComputedStyle(p).whiteSpace") == "pre-wrap"
    assert state_input.evaluate("p => p.scrollWidth <= p.clientWidth")  # no sideways scroll
    assert screen.page.evaluate("document.documentElement.scrollWidth") <= 1400
    expect(screen.page.locator("#state-detail pre.state-output")).to_contain_text('"rows": 42')


def test_executions_page_through_and_search_by_name(console: Console, screen: Screen) -> None:
    console.machine("pager", PASS)
    arns = [
        console.app.service.start_execution(
            state_machine_arn="pager", input="{}", name=f"page-{i:03d}"
        )["executionArn"]
        for i in range(55)
    ]
    for arn in arns:
        console.wait_for_status(str(arn), "SUCCEEDED")
    screen.open("/executions?machine=pager")
    rows = screen.page.locator("#executions tbody tr[data-arn]")
    expect(rows).to_have_count(50)
    screen.page.locator("#exec-next").click()
    expect(rows).to_have_count(5)
    expect(screen.page.locator("#exec-page")).to_contain_text("Page 2")
    screen.page.locator("#exec-prev").click()
    expect(rows).to_have_count(50)
    search = screen.page.locator("#f-name")
    search.fill("PAGE-05")
    search.press("Enter")
    expect(rows).to_have_count(5)
    assert sorted(rows.locator("td:first-child").all_inner_texts()) == [
        f"page-{i:03d}" for i in range(50, 55)
    ]
    screen.shot("search")

    # By start time: two runs after a whole second the 55 above started before.
    boundary = int(time.time()) + 1
    wait_until(lambda: time.time() >= boundary, 3, what="the next second", interval=0.02)
    late = [
        console.app.service.start_execution(
            state_machine_arn="pager", input="{}", name=f"late-{i}"
        )["executionArn"]
        for i in range(2)
    ]
    for arn in late:
        console.wait_for_status(str(arn), "SUCCEEDED")
    local = str(  # the boundary as the browser's datetime-local value (its own time zone)
        screen.page.evaluate(
            "ms => { const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);"
            " return d.toISOString().slice(0, 19); }",
            boundary * 1000,
        )
    )
    screen.open("/executions?machine=pager")
    screen.page.locator("#f-from").fill(local)
    screen.page.locator("#f-from").dispatch_event("change")
    expect(rows).to_have_count(2)
    assert sorted(rows.locator("td:first-child").all_inner_texts()) == ["late-0", "late-1"]
    screen.shot("started-after")
    screen.open(f"/executions?machine=pager&to={quote(local)}")
    expect(rows).to_have_count(50)
    expect(rows.filter(has_text="late-")).to_have_count(0)
    screen.page.locator("#exec-next").click()
    expect(rows).to_have_count(5)
    # At 800 px the filters wrap onto lines of their own instead of widening the page.
    screen.page.set_viewport_size({"width": 800, "height": 900})
    expect(screen.page.locator("#f-to")).to_be_visible()
    assert screen.page.evaluate("document.documentElement.scrollWidth") <= 800
    screen.shot("filters-at-800px")


def test_a_run_that_found_the_job_busy_is_marked_skipped(console: Console, screen: Screen) -> None:
    from eltflow.pipelines.jobs import wait_statement
    from eltflow.pipelines.reference import settings_for

    skipper = {
        "StartAt": "RecordSkipped",
        "States": {
            "RecordSkipped": {
                "Type": "Pass",
                "Result": {"JobID": "101", "outcome": "SKIPPED", "reason": "job 101 is busy"},
                "End": True,
            }
        },
    }
    console.machine("skipper", skipper)
    skipped = console.start("skipper")
    console.machine("worked", PASS)
    worked = console.start("worked")
    for arn in (skipped, worked):
        console.wait_for_status(arn, "SUCCEEDED")
    # The run-history row the reference pipeline's RecordSkipped writes.
    config = settings_for(console.app.settings)
    target = {"ClusterIdentifier": config.cluster, "Database": config.database}
    ddl = Path(__file__).resolve().parents[2] / "src/eltflow/pipelines/reference/sql/ddl.sql"
    create = ddl.read_text().split("CREATE TABLE IF NOT EXISTS public.etl_run_history")[1]
    statements = [
        "CREATE TABLE IF NOT EXISTS public.etl_run_history" + create.split(";")[0],
        "INSERT INTO public.etl_run_history (execution_arn, job_id, outcome) "
        "VALUES (:arn, '101', 'SKIPPED')",
    ]
    dataapi = console.app.dataapi
    assert dataapi is not None
    for sql in statements:
        params = [{"name": "arn", "value": skipped}] if ":arn" in sql else []
        sid = dataapi.call(
            "ExecuteStatement",
            {**target, "Sql": sql, "Parameters": params} if params else {**target, "Sql": sql},
        )["Id"]
        wait_statement(dataapi, sid, 30)

    screen.open("/executions")
    skipped_row = screen.page.locator(f'tr[data-arn="{skipped}"]')
    expect(skipped_row.locator(".status.SUCCEEDED")).to_be_visible()  # still SUCCEEDED, as on AWS
    expect(skipped_row.locator(".flag.skipped")).to_have_text("skipped")
    expect(screen.page.locator(f'tr[data-arn="{worked}"] .flag.skipped')).to_have_count(0)
    screen.shot("skipped-badge")
    screen.open(_execution_page(skipped))
    expect(screen.page.locator("h1 .flag.skipped")).to_be_visible()


def test_jobs_page_explains_an_empty_page_and_links_items_to_runs(
    console: Console, screen: Screen
) -> None:
    assert console.app.items is not None
    table = {"TableName": "JobAudit"}
    scanned = console.app.items.call("Scan", table)
    for item in scanned.get("Items", []):
        console.app.items.call("DeleteItem", {**table, "Key": {"JobID": item["JobID"]}})
    screen.open("/jobs")
    expect(screen.page.locator("#jobs-empty")).to_contain_text("No jobs yet")
    expect(screen.page.locator("#jobs-empty")).to_contain_text("eltflow items put JobAudit")
    screen.shot("empty")

    console.machine("holder", PASS)
    run = console.start("holder")
    console.app.items.call(
        "PutItem",
        {
            **table,
            "Item": {"JobID": {"S": "202"}, "JobState": {"S": "Running"}, "RunArn": {"S": run}},
        },
    )
    screen.open("/jobs")
    row = screen.page.locator('tr[data-job-row="202"]')
    expect(row.locator("a.job-run")).to_have_attribute("href", f"#/execution/{quote(run, safe='')}")
    row.locator("a.job-runs").click()
    expect(screen.page.locator("h2", has_text="Run history of job 202")).to_be_visible()
    row.locator("a.job-run").click()
    expect(screen.page.locator("h1")).to_contain_text(run.split(":")[-1])


def test_schedule_fires_show_one_status(console: Console, screen: Screen) -> None:
    from eltflow.scheduler.model import Schedule
    from eltflow.scheduler.store import ScheduleStore

    console.machine("fired", PASS)
    store = ScheduleStore(console.app.db)
    store.create(
        Schedule(name="hourly-fired", expression="rate(1 hour)", state_machine="fired"),
        console.app.clock.now(),
    )
    console.app.schedules.scheduler().tick()
    started = console.app.service.list_executions(state_machine_arn="fired")["executions"]
    assert isinstance(started, list) and len(started) == 1
    console.wait_for_status(str(started[0]["executionArn"]), "SUCCEEDED")  # type: ignore[index,call-overload]
    screen.open("/schedules")
    fires = screen.page.locator('tr[data-schedule-row="hourly-fired"] td:nth-child(6) .fire')
    expect(fires).to_have_count(1)
    # One status: the outcome of the execution the fire started (not "STARTED" beside it).
    expect(fires.locator(".status")).to_have_count(1)
    expect(fires.locator(".status")).to_have_text("SUCCEEDED")
    assert "STARTED" not in fires.inner_text()


def test_dark_mode_follows_the_system_setting(console: Console, screen: Screen) -> None:
    screen.page.emulate_media(color_scheme="dark")
    screen.open("/executions")
    expect(screen.page.locator("#executions")).to_be_visible()
    background = screen.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 20, 25)", background
    screen.shot("dark")
    screen.page.emulate_media(color_scheme="light")
    background = screen.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(247, 248, 250)", background

    # The header's toggle overrides the system setting (auto -> dark -> light -> auto), and
    # the choice outlives a reload.
    def body_colour() -> str:
        return str(screen.page.evaluate("getComputedStyle(document.body).backgroundColor"))

    toggle = screen.page.locator("#theme-toggle")
    expect(toggle).to_have_attribute("data-theme", "auto")
    toggle.click()
    expect(toggle).to_have_attribute("data-theme", "dark")
    assert body_colour() == "rgb(15, 20, 25)"
    screen.page.reload()
    expect(screen.page.locator("#executions")).to_be_visible()
    assert body_colour() == "rgb(15, 20, 25)"
    screen.shot("dark-by-toggle")
    screen.page.emulate_media(color_scheme="dark")
    toggle.click()
    expect(toggle).to_have_attribute("data-theme", "light")
    assert body_colour() == "rgb(247, 248, 250)"  # light, though the system is dark
    toggle.click()
    expect(toggle).to_have_attribute("data-theme", "auto")
    assert body_colour() == "rgb(15, 20, 25)"  # the system's again


def test_logs_tab_shows_what_a_handler_printed(console: Console, screen: Screen) -> None:
    chatty = {
        "StartAt": "LoadOrders",
        "States": {
            "LoadOrders": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "chatty", "Payload": {"table": "orders"}},
                "Next": "LoadBad",
            },
            "LoadBad": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "chatty", "Payload": {"table": "bad", "fail": True}},
                "End": True,
            },
        },
    }
    console.machine("chatty", chatty)
    arn = console.start("chatty")
    console.wait_for_status(arn, "FAILED")
    screen.open(_execution_page(arn))
    screen.page.locator('button[data-tab="logs"]').click()
    orders = screen.page.locator('#logs .log[data-state="LoadOrders"]')
    expect(orders.locator("pre")).to_contain_text("loading orders")
    expect(orders.locator("pre")).to_contain_text("[WARNING] chatty: slow warehouse")
    bad = screen.page.locator('#logs .log[data-state="LoadBad"]')
    expect(bad).to_contain_text("ValueError")
    expect(bad.locator("pre")).to_contain_text("loading bad")
    screen.shot("logs")


# -- Data API statements and topics (issue 15) -------------------------------------------------
ALERTS = "arn:aws:sns:us-east-1:123456789012:alerts"
SQL_THEN_NOTIFY = {
    "StartAt": "Count",
    "States": {
        "Count": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:redshiftdata:executeStatement",
            "Parameters": {
                "ClusterIdentifier": "default",
                "Database": "dev",
                "Sql": "SELECT 7 AS answer UNION ALL SELECT 8",
            },
            "ResultPath": "$.statement",
            "Next": "CountInLambda",
        },
        # A handler's own Data API client (thread isolation): its statement links here too.
        "CountInLambda": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "counter", "Payload": {}},
            "ResultSelector": {"Id.$": "$.Payload.Id"},
            "ResultPath": "$.lambda",
            "Next": "Notify",
        },
        "Notify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": ALERTS, "Subject": "loaded", "Message.$": "$.statement.Id"},
            "ResultPath": "$.published",
            "End": True,
        },
    },
}


def test_statements_page_links_sql_to_its_execution_and_topics_show_notifications(
    console: Console, screen: Screen
) -> None:
    console.machine("sql-notify", SQL_THEN_NOTIFY)
    arn = console.start("sql-notify")
    console.wait_for_status(arn, "SUCCEEDED")
    output = json.loads(str(console.app.service.describe_execution(execution_arn=arn)["output"]))
    run_by_task, run_by_lambda = output["statement"]["Id"], output["lambda"]["Id"]
    # A statement submitted outside any execution (as `eltflow sql` does), which fails.
    dataapi = console.app.dataapi
    assert dataapi is not None
    target = {"ClusterIdentifier": "default", "Database": "dev"}
    bad = dataapi.call("ExecuteStatement", {**target, "Sql": "SELECT * FROM no_such_table"})["Id"]
    wait_until(
        lambda: all(
            dataapi.call("DescribeStatement", {"Id": sid})["Status"] in ("FINISHED", "FAILED")
            for sid in (run_by_task, run_by_lambda, bad)
        ),
        30,
        what="both statements to end",
        interval=0.05,
    )

    screen.open("/statements")
    mine = screen.page.locator(f'tr[data-statement="{run_by_task}"]')
    expect(mine.locator(".status")).to_have_text("FINISHED")
    expect(mine.locator("td.st-sql")).to_contain_text("SELECT 7 AS answer")
    expect(mine.locator("td.st-rows")).to_have_text("2")
    expect(mine.locator("td.st-duration")).to_contain_text(re.compile(r"\d (ms|s)$"))
    failed = screen.page.locator(f'tr[data-statement="{bad}"]')
    expect(failed.locator(".status")).to_have_text("FAILED")
    expect(failed.locator("td.st-error")).to_contain_text("no_such_table")
    expect(failed.locator("a.st-execution")).to_have_count(0)  # run by no execution
    in_lambda = screen.page.locator(f'tr[data-statement="{run_by_lambda}"]')
    expect(in_lambda.locator("a.st-execution")).to_have_text(arn.split(":")[-1])
    expect(in_lambda.locator(".st-state")).to_have_text("CountInLambda")
    screen.shot("statements")
    screen.exhibit("statements")
    screen.page.locator("#st-status").select_option("FAILED")
    expect(screen.page.locator(f'tr[data-statement="{run_by_task}"]')).to_have_count(0)
    expect(failed).to_be_visible()
    screen.page.locator("#st-status").select_option("")
    mine.locator("a.st-execution").click()
    expect(screen.page.locator("h1")).to_contain_text(arn.split(":")[-1])

    screen.open("/topics")
    topic = screen.page.locator('[data-topic="alerts"]')
    expect(topic.locator("table.subscriptions")).to_contain_text("alerts.jsonl")
    note = screen.page.locator("#notifications tr", has_text=run_by_task)
    expect(note).to_contain_text("loaded")  # the subject
    expect(note.locator(".delivery .status")).to_have_text("SUCCEEDED")
    screen.shot("topics")
    screen.exhibit("topics")


# -- nested workflows and task tokens (issue 11) -----------------------------------------------
# The child waits for a person: its Lambda is called with the token, then nothing answers.
TOKEN_CHILD = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "chatty",
                "Payload": {"table": "approvals", "token.$": "$$.Task.Token"},
            },
            "HeartbeatSeconds": 3600,
            "End": True,
        }
    },
}
SYNC_PARENT = {
    "StartAt": "RunChild",
    "States": {
        "RunChild": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:token-child",
                "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
            },
            "OutputPath": "$.Output",
            "End": True,
        }
    },
}


def test_nested_sync_links_parent_and_child_and_a_waiting_task_is_answered(
    console: Console, screen: Screen
) -> None:
    console.machine("token-child", TOKEN_CHILD)
    console.machine("sync-parent", SYNC_PARENT)
    parent = console.start("sync-parent")
    screen.open(_execution_page(parent))
    # The parent's Task state links to the child it started (while the child still runs).
    child_link = screen.page.locator('#exec-children .child[data-state="RunChild"] a.child-link')
    expect(child_link).to_be_visible()
    child = str(child_link.get_attribute("data-arn"))
    assert ":execution:token-child:" in child
    child_link.click()
    expect(screen.page.locator("h1")).to_contain_text(child.split(":")[-1])
    # The child links back to its parent, and lists its task waiting for the token.
    expect(screen.page.locator("#exec-parent a.parent-link")).to_have_attribute("data-arn", parent)
    task = screen.page.locator('#waiting-tasks tr[data-state="Approve"]')
    expect(task.locator(".task-heartbeat")).to_contain_text("every 3600")
    token = str(task.get_attribute("data-token"))
    sent = console.app.service.get_execution_history(execution_arn=child)["events"]
    assert token in json.dumps(sent)  # the token the Lambda was called with
    task.locator(".task-output").fill('{"approved": tru')
    task.locator('button[data-action="success"]').click()
    expect(task.locator(".form-error")).to_contain_text("not valid JSON")
    task.locator(".task-output").fill('{"approved": true}')
    screen.shot("waiting-task")
    screen.exhibit("waiting-task")
    task.locator('button[data-action="success"]').click()
    expect(screen.header()).to_have_text("SUCCEEDED")
    expect(screen.page.locator("#waiting-tasks")).to_be_hidden()
    assert json.loads(
        str(console.app.service.describe_execution(execution_arn=child)["output"])
    ) == {"approved": True}
    # Back to the parent through the link: its .sync task ended with the child's output.
    screen.page.locator("#exec-parent a.parent-link").click()
    expect(screen.page.locator("h1")).to_contain_text(parent.split(":")[-1])
    expect(screen.header()).to_have_text("SUCCEEDED")
    expect(screen.page.locator("#exec-children a.child-link")).to_have_attribute("data-arn", child)
    assert json.loads(
        str(console.app.service.describe_execution(execution_arn=parent)["output"])
    ) == {"approved": True}
    screen.shot("parent-succeeded")


# -- CSRF (issue 17) ---------------------------------------------------------------------------
def test_a_script_without_the_csrf_token_is_refused_but_the_console_is_not(
    console: Console, screen: Screen
) -> None:
    screen.open("/executions")
    expect(screen.page.locator("#executions")).to_be_visible()
    body = json.dumps({"name": "forged", "definition": PASS})
    # A same-origin request without the session's token (what an injected script or a browser
    # that lost the Origin check would send): refused, nothing created.
    forged = screen.page.evaluate(
        """async (body) => {
          const r = await fetch('/api/state-machines', {method: 'POST', body,
                                headers: {'Content-Type': 'application/json'}});
          return [r.status, (await r.json()).code];
        }""",
        body,
    )
    assert forged == [403, "CsrfTokenInvalid"]
    names = console.app.service.list_state_machines()["stateMachines"]
    assert "forged" not in json.dumps(names)
    # The console's own request (api() sends the token it got from /api/csrf) goes through.
    made = screen.page.evaluate(
        "(body) => App.api('/state-machines', {method: 'POST', body})", body
    )
    assert str(made["stateMachineArn"]).endswith(":forged")


# -- a failed run with its logs and SQL (issue 15) ---------------------------------------------
FAILING_LOAD = {
    "StartAt": "CreateStage",
    "States": {
        "CreateStage": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:redshiftdata:executeStatement",
            "Parameters": {
                "ClusterIdentifier": "default",
                "Database": "dev",
                "Sql": "CREATE TABLE IF NOT EXISTS stage_orders (id INT)",
            },
            "ResultPath": None,  # keep the input
            "Next": "LoadOrders",
        },
        "LoadOrders": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": "loader",
                "Payload": {"sql": "SELECT count(*) FROM missing_orders"},
            },
            "End": True,
        },
    },
}


def test_a_failed_load_shows_its_logs_and_its_sql(console: Console, screen: Screen) -> None:
    console.machine("failing-load", FAILING_LOAD)
    arn = console.start("failing-load")
    console.wait_for_status(arn, "FAILED")
    screen.open(_execution_page(arn))
    expect(screen.header()).to_have_text("FAILED")
    expect(screen.page.locator("#exec-error")).to_contain_text("StatementFailed")
    expect(screen.node("LoadOrders")).to_have_attribute("data-status", "FAILED")
    screen.shot("failed-run")
    screen.page.locator('button[data-tab="logs"]').click()
    log = screen.page.locator('#logs .log[data-state="LoadOrders"]')
    expect(log.locator("pre")).to_contain_text("loading with: SELECT count(*) FROM missing_orders")
    expect(log.locator("pre")).to_contain_text("[ERROR] loader: statement")
    screen.shot("failed-run-logs")
    screen.exhibit("failed-run-logs")
    screen.page.locator('button[data-tab="sql"]').click()
    rows = screen.page.locator("#exec-sql tbody tr")
    expect(rows).to_have_count(2)  # the Task's own statement and the handler's
    failed = rows.filter(has_text="missing_orders")
    expect(failed.locator("td.st-state")).to_have_text("LoadOrders")
    expect(failed.locator(".status")).to_have_text("FAILED")
    expect(failed.locator("td.st-error")).to_contain_text("missing_orders")
    created = rows.filter(has_text="CREATE TABLE IF NOT EXISTS stage_orders")
    expect(created.locator("td.st-state")).to_have_text("CreateStage")
    expect(created.locator(".status")).to_have_text("FINISHED")
    screen.shot("failed-run-sql")
    screen.exhibit("failed-run-sql")
    # The same, for one state: its panel on the graph shows its logs and its SQL.
    screen.page.locator('button[data-tab="graph"]').click()
    screen.node("LoadOrders").click()
    panel = screen.page.locator("#state-detail")
    expect(panel.locator(".state-log pre")).to_contain_text("loading with: SELECT count(*)")
    expect(panel.locator(".state-statement")).to_have_count(1)
    expect(panel.locator(".state-statement .status")).to_have_text("FAILED")
    expect(panel.locator(".state-statement .run-error")).to_contain_text("missing_orders")
    screen.node("CreateStage").click()
    expect(panel.locator(".state-statement pre")).to_have_text(
        "CREATE TABLE IF NOT EXISTS stage_orders (id INT)"
    )
    expect(panel.locator(".state-log")).to_have_count(0)  # no Lambda: no function log
    assert panel.locator(".state-extras").inner_text().startswith("SQL")
    screen.shot("failed-run-state-panel")
