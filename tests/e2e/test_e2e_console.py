"""The web console in real headless Chromium (Debian's chromium + chromium-driver, driven by
selenium) against a real server: the eltflow Server (worker + HTTP API + console) over a SQLite
store on a free loopback port, with Python task functions the tests control.

Skips when Chromium is not installed, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.serve import Server
from eltflow.types import JSON

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = Path("/tmp/eltflow-console-execution.png")

FN = "arn:aws:lambda:us-east-1:123456789012:function:"
FLAKY, GATED = FN + "flaky", FN + "gated"

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


def _chromium_problem() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@dataclass
class Tasks:
    """The task functions' switches: ``broken`` makes flaky fail; ``gate`` holds gated."""

    broken: bool = True
    gate: threading.Event = field(default_factory=threading.Event)

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
    driver: Any
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

    def wait_for_status(self, arn: str, status: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.status(arn) != status:
            assert time.monotonic() < deadline, f"{arn} is {self.status(arn)}, not {status}"
            time.sleep(0.05)

    def open(self, fragment: str) -> None:
        self.driver.get(f"{self.base}/#{fragment}")

    def until(self, predicate: Callable[[Any], Any], timeout: float = 20) -> Any:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(predicate)
        except TimeoutException as e:
            # Say what the page showed instead: far more useful than selenium's empty message.
            page = self.text_of("app")[:3000]
            raise AssertionError(
                f"timed out after {timeout} s; {self.driver.current_url} shows:\n{page}"
            ) from e

    # Read in one script call: live refresh re-renders the page, so an element found by one
    # call may be gone by the next.
    def node_status(self, state: str) -> str | None:
        value = self.driver.execute_script(
            "const n = document.querySelector(`g.node[data-state='${arguments[0]}']`);"
            "return n ? n.getAttribute('data-status') : null;",
            state,
        )
        return None if value is None else str(value)

    def header_status(self) -> str | None:
        value = self.driver.execute_script(
            "const b = document.querySelector('h1 .status'); return b ? b.textContent : null;"
        )
        return None if value is None else str(value)

    def text_of(self, element_id: str) -> str:
        value = self.driver.execute_script(
            "const e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
            element_id,
        )
        return str(value)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the module, with a fresh profile."""
    problem = _chromium_problem()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {problem}")
        pytest.skip(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def console(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("console")
    # A project with an audit table, so the jobs page has a real DynamoDB-style table.
    (folder / "eltflow.toml").write_text('[tables.JobAudit]\npartition_key = "JobID"\n')
    app = build_app(load_settings(folder, environ={}))
    tasks = Tasks()
    app.register(FLAKY, tasks.flaky)
    app.register(GATED, tasks.gated)
    server = Server(
        app, port=0, scheduler=False, worker_options={"poll_seconds": 0.05, "lease_seconds": 10}
    )
    try:
        with server.running():
            try:
                yield Console(app=app, base=server.url, driver=browser, tasks=tasks)
            finally:
                tasks.gate.set()  # before the server waits for in-flight tasks
    finally:
        app.close()


def _execution_page(arn: str) -> str:
    return f"/execution/{quote(arn, safe='')}"


def test_executions_list_shows_a_started_execution_and_its_status(console: Console) -> None:
    from selenium.webdriver.common.by import By

    console.machine("hello", PASS)
    arn = console.start("hello")
    console.wait_for_status(arn, "SUCCEEDED")
    console.open("/executions")
    row = f'tr[data-arn="{arn}"]'
    console.until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
    row_text = "return document.querySelector(arguments[0]).innerText"
    console.until(lambda d: "SUCCEEDED" in d.execute_script(row_text, row))
    assert "hello" in console.driver.execute_script(row_text, row)
    # The status filter narrows the list (the page keeps it in the URL).
    console.open("/executions?status=FAILED")
    console.until(lambda d: "No executions" in console.text_of("executions"))


def test_execution_graph_colours_states_by_status(console: Console) -> None:
    from selenium.webdriver.common.by import By

    console.tasks.broken = True
    console.machine("caught", CAUGHT_THEN_FAIL)
    arn = console.start("caught", {"JobID": "101"})
    console.wait_for_status(arn, "FAILED")
    console.open(_execution_page(arn))
    console.until(lambda d: console.node_status("Failed") == "FAILED")
    expected = {
        "Load": "CAUGHT",
        "Record": "SUCCEEDED",
        "Failed": "FAILED",
        "Publish": "NOT_REACHED",
    }
    assert {s: console.node_status(s) for s in expected} == expected
    # The colours the legend promises: green, red, orange, grey outlines.
    strokes = {
        state: console.driver.execute_script(
            "return getComputedStyle(document.querySelector("
            "`g.node[data-state='${arguments[0]}'] rect`)).stroke",
            state,
        )
        for state in expected
    }
    assert strokes == {
        "Load": "rgb(236, 114, 17)",
        "Record": "rgb(29, 129, 2)",
        "Failed": "rgb(209, 50, 18)",
        "Publish": "rgb(170, 183, 184)",
    }
    assert console.header_status() == "FAILED"
    assert "LoadFailed" in console.driver.find_element(By.ID, "exec-error").text
    # Selecting the caught state shows its error and input.
    console.driver.find_element(By.CSS_SELECTOR, 'g.node[data-state="Load"]').click()
    detail = console.until(lambda d: d.find_element(By.ID, "state-detail"))
    console.until(lambda d: "warehouse unavailable" in detail.text)
    assert "JobID" in detail.text
    assert "null" not in detail.text.splitlines()[:3]  # no stray placeholder under the title
    SCREENSHOT.unlink(missing_ok=True)
    console.driver.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


def test_live_refresh_turns_a_running_execution_green(console: Console) -> None:
    console.tasks.gate.clear()
    console.machine("gated", GATED_CHAIN)
    arn = console.start("gated")
    console.open(_execution_page(arn))
    console.until(lambda d: console.node_status("Slow") == "RUNNING")
    assert console.node_status("Prepare") == "SUCCEEDED"
    assert console.node_status("Done") == "NOT_REACHED"
    assert console.header_status() == "RUNNING"
    console.driver.execute_script("window.__sameDocument = true")
    console.tasks.gate.set()
    console.until(lambda d: console.header_status() == "SUCCEEDED")
    console.until(lambda d: console.node_status("Done") == "SUCCEEDED")
    assert console.node_status("Slow") == "SUCCEEDED"
    assert console.driver.execute_script("return window.__sameDocument") is True  # no reload


def test_stop_button_aborts_a_running_execution(console: Console) -> None:
    from selenium.webdriver.common.by import By

    console.machine("napping", LONG_WAIT)
    arn = console.start("napping")
    console.open(_execution_page(arn))
    console.until(lambda d: console.node_status("Nap") == "RUNNING")
    button = console.until(lambda d: d.find_element(By.ID, "btn-stop"))
    assert button.is_enabled()
    button.click()
    console.until(lambda d: console.header_status() == "ABORTED")
    assert console.status(arn) == "ABORTED"
    assert console.node_status("Nap") == "ABORTED"


def test_redrive_button_after_fixing_the_task(console: Console) -> None:
    from selenium.webdriver.common.by import By

    console.tasks.broken = True
    console.machine("redrive", LOAD_THEN_PUBLISH)
    arn = console.start("redrive")
    console.wait_for_status(arn, "FAILED")
    console.open(_execution_page(arn))
    console.until(lambda d: console.node_status("Load") == "FAILED")
    assert not console.driver.find_element(By.ID, "btn-stop").is_enabled()
    console.tasks.broken = False  # "fix the task"
    console.driver.find_element(By.ID, "btn-redrive").click()
    console.until(lambda d: console.header_status() == "SUCCEEDED")
    console.until(lambda d: console.node_status("Publish") == "SUCCEEDED")
    assert console.node_status("Load") == "SUCCEEDED"
    described = console.app.service.describe_execution(execution_arn=arn)
    assert described["redriveCount"] == 1
    assert json.loads(str(described["output"])) == {"load": {"rows": 42}}


def test_start_form_rejects_bad_json_then_opens_the_new_execution(console: Console) -> None:
    from selenium.webdriver.common.by import By

    console.machine("starter", PASS)
    console.open("/machine/starter")
    box = console.until(lambda d: d.find_element(By.ID, "start-input"))
    assert "Hello" in console.driver.find_element(By.ID, "definition").text
    console.until(lambda d: console.node_status("Hello") == "NOT_REACHED")
    box.clear()
    box.send_keys('{"JobID": 101,')
    console.driver.find_element(By.ID, "btn-start").click()
    error = console.until(lambda d: d.find_element(By.ID, "start-error"))
    console.until(lambda d: error.is_displayed())
    assert "not valid JSON" in error.text
    assert console.app.service.list_executions(state_machine_arn="starter")["executions"] == []

    box.clear()
    box.send_keys('{"JobID": 101}')
    console.driver.find_element(By.ID, "btn-start").click()
    console.until(lambda d: "#/execution/" in d.current_url)
    console.until(lambda d: console.header_status() == "SUCCEEDED")
    listed = console.app.service.list_executions(state_machine_arn="starter")["executions"]
    assert isinstance(listed, list) and len(listed) == 1
    arn = listed[0]["executionArn"]  # type: ignore[index,call-overload]
    assert quote(str(arn), safe="") in console.driver.current_url
    described = console.app.service.describe_execution(execution_arn=str(arn))
    assert json.loads(str(described["input"])) == {"JobID": 101}
    assert console.node_status("Hello") == "SUCCEEDED"


def test_jobs_page_resets_a_stuck_job(console: Console) -> None:
    from selenium.webdriver.common.by import By

    console.app.services["dynamodb"].call(
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
    console.open("/jobs")
    console.until(lambda d: "Running" in console.text_of("jobs"))
    console.driver.find_element(By.CSS_SELECTOR, 'button[data-job="101"]').click()
    console.until(lambda d: d.switch_to.alert).accept()
    console.until(lambda d: "Ready" in console.text_of("jobs"))
    item = console.app.services["dynamodb"].call(
        "GetItem", {"TableName": "JobAudit", "Key": {"JobID": {"S": "101"}}}
    )
    assert item["Item"]["JobState"] == {"S": "Ready"}


def test_token_protected_console_asks_for_the_token(console: Console) -> None:
    from selenium.webdriver.common.by import By

    guarded = Server(console.app, port=0, token="open-sesame", scheduler=False)
    with guarded.running():
        console.driver.get(f"{guarded.url}/#/executions")
        form = console.until(lambda d: d.find_element(By.ID, "token-form"))
        assert "requires a token" in form.text
        console.driver.find_element(By.ID, "token-input").send_keys("wrong")
        console.driver.find_element(By.ID, "btn-token").click()
        console.until(lambda d: "refused" in d.find_element(By.ID, "token-form").text)
        box = console.driver.find_element(By.ID, "token-input")
        box.clear()
        box.send_keys("open-sesame")
        console.driver.find_element(By.ID, "btn-token").click()
        console.until(
            lambda d: "hello" in console.text_of("executions")
        )  # started by an earlier test
        console.driver.execute_script("sessionStorage.clear()")


@pytest.fixture(scope="module")
def reference(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The reference pipeline's project (TPC-H SF 0.01 staging in DuckDB, audit table, state
    machine), served like ``eltflow serve`` does."""
    from eltflow.pipelines.reference import settings_for
    from eltflow.pipelines.reference.project import ensure_config, load_staging, prepare

    folder = tmp_path_factory.mktemp("reference")
    ensure_config(folder)
    settings = load_settings(folder, environ={})
    load_staging(settings, settings_for(settings), 0.01)
    app = build_app(settings)
    try:
        prepare(app, settings_for(settings))
        server = Server(app, port=0, scheduler=False, worker_options={"poll_seconds": 0.05})
        with server.running():
            yield Console(app=app, base=server.url, driver=browser, tasks=Tasks())
    finally:
        app.close()


def _start_from_form(console: Console, machine: str, payload: str) -> None:
    from selenium.webdriver.common.by import By

    console.open(f"/machine/{machine}")
    box = console.until(lambda d: d.find_element(By.ID, "start-input"))
    box.clear()
    box.send_keys(payload)
    before = console.driver.current_url
    console.driver.find_element(By.ID, "btn-start").click()
    console.until(lambda d: d.current_url != before and "#/execution/" in d.current_url)


def _reset_job_from_jobs_page(console: Console, job_id: str) -> None:
    from selenium.webdriver.common.by import By

    console.open("/jobs")
    console.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'button[data-job="{job_id}"]'))
    console.driver.find_element(By.CSS_SELECTOR, f'button[data-job="{job_id}"]').click()
    console.until(lambda d: d.switch_to.alert).accept()


def test_reference_pipeline_from_the_console(reference: Console) -> None:
    from eltflow.pipelines.reference import settings_for
    from eltflow.pipelines.reference.project import run_batch

    config = settings_for(reference.app.settings)
    payload = json.dumps({"JobID": config.job_id})

    # Start it from the machine page and watch the states turn green.
    _start_from_form(reference, config.state_machine, payload)
    reference.until(lambda d: reference.header_status() == "SUCCEEDED", timeout=60)
    for state in ("AcquireLock", "LoadSupplierDim", "LoadCustomerDim", "LoadFact", "ReleaseLock"):
        assert reference.node_status(state) == "SUCCEEDED", state
    assert reference.node_status("JobFailed") == "NOT_REACHED"
    reference.open("/jobs")
    reference.until(lambda d: "Ready" in reference.text_of("jobs"))

    # Break the fact load's input: the failed load is caught (orange), the run ends red.
    dataapi = reference.app.services["redshift-data"]
    run_batch(dataapi, config, ["ALTER TABLE staging.orders RENAME TO orders_missing"])
    try:
        _start_from_form(reference, config.state_machine, payload)
        reference.until(lambda d: reference.header_status() == "FAILED", timeout=60)
        assert reference.node_status("LoadFact") == "CAUGHT"
        assert reference.node_status("MarkJobFailed") == "SUCCEEDED"
        statuses = reference.driver.execute_script(
            "return [...document.querySelectorAll('g.node')].map(n => n.dataset.status)"
        )
        assert "FAILED" in statuses
        reference.driver.save_screenshot("/tmp/eltflow-console-reference.png")
        _check_states_and_events_tabs(reference)
    finally:
        run_batch(dataapi, config, ["ALTER TABLE staging.orders_missing RENAME TO orders"])

    # The audit item says Failed; reset it from the jobs page.
    reference.open("/jobs")
    reference.until(lambda d: "Failed" in reference.text_of("jobs"))
    _reset_job_from_jobs_page(reference, config.job_id)
    reference.until(
        lambda d: "Ready" in reference.text_of("jobs") and "Failed" not in reference.text_of("jobs")
    )


def _check_states_and_events_tabs(console: Console) -> None:
    """The States tab lists each state run with its status; the Events tab pages by 25."""
    from selenium.webdriver.common.by import By

    arn = console.driver.execute_script(
        "return decodeURIComponent(location.hash.slice('#/execution/'.length))"
    )
    events = console.app.service.get_execution_history(execution_arn=arn)["events"]
    assert isinstance(events, list) and len(events) > 25
    console.driver.find_element(By.CSS_SELECTOR, 'button[data-tab="table"]').click()
    console.until(lambda d: "LoadFact" in console.text_of("state-table"))
    rows = console.driver.execute_script(
        "return [...document.querySelectorAll('#state-table tbody tr')]"
        ".map(r => [r.cells[0].innerText, r.cells[2].innerText])"
    )
    assert ["LoadFact", "CAUGHT"] in rows and ["LoadSupplierDim", "SUCCEEDED"] in rows
    console.driver.find_element(By.CSS_SELECTOR, 'button[data-tab="events"]').click()
    pages = -(-len(events) // 25)
    console.until(lambda d: f"Page 1 of {pages} · {len(events)} events" in console.text_of("app"))
    assert len(console.driver.find_elements(By.CSS_SELECTOR, "#events tbody tr")) == 25
    console.driver.find_element(By.ID, "events-next").click()
    console.until(lambda d: f"Page 2 of {pages}" in console.text_of("app"))
    first_id = console.driver.execute_script(
        "return document.querySelector('#events tbody tr').cells[0].innerText"
    )
    assert first_id == "26"


def test_schedules_page_shows_next_fires_and_pauses(console: Console) -> None:
    from selenium.webdriver.common.by import By

    from eltflow.scheduler.model import Schedule
    from eltflow.scheduler.store import ScheduleStore

    console.machine("scheduled", PASS)
    ScheduleStore(console.app.db).create(
        Schedule(name="nightly", expression="cron(30 2 * * ? *)", state_machine="scheduled"),
        console.app.clock.now(),
    )
    console.open("/schedules")
    row = 'tr[data-schedule-row="nightly"]'
    console.until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
    text = "return document.querySelector(arguments[0]).innerText"
    shown = console.driver.execute_script(text, row)
    assert "cron(30 2 * * ? *)" in shown and "ENABLED" in shown and "none yet" in shown
    times = console.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' td:nth-child(5) div')].length", row
    )
    assert times == 3  # the next three fire times
    console.driver.find_element(By.CSS_SELECTOR, 'button[data-schedule="nightly"]').click()
    console.until(lambda d: "DISABLED" in d.execute_script(text, row))
    assert ScheduleStore(console.app.db).get("nightly").state.value == "DISABLED"
    console.driver.find_element(By.CSS_SELECTOR, 'button[data-schedule="nightly"]').click()
    console.until(lambda d: "ENABLED" in d.execute_script(text, row))
