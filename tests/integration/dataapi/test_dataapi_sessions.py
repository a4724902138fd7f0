"""Data API sessions (SessionKeepAliveSeconds, SessionId) on DuckDB (+ SQLite store) and
PostgreSQL: one held connection, its temporary tables and settings, one statement at a time,
ended by its keep-alive on the service's clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.integration.dataapi.dataapi_harness import Harness
from tests.support.wait import wait_until

from eltflow.clock import VirtualClock
from eltflow.config import Settings
from eltflow.dataapi import build_dataapi
from eltflow.errors import AwsApiError
from eltflow.store.db import Database


def _error(call: Any, *args: Any) -> AwsApiError:
    with pytest.raises(AwsApiError) as e:
        call(*args)
    return e.value


def _in_session(dataapi: Harness, session: str, sql: str, **extra: Any) -> dict[str, Any]:
    out = dataapi.service.execute_statement({"Sql": sql, "SessionId": session, **extra})
    assert out["SessionId"] == session and "ClusterIdentifier" in out
    return dataapi.wait(out["Id"])


def test_temp_tables_and_settings_persist_in_a_session_only(dataapi: Harness) -> None:
    first = dataapi.service.execute_statement(
        {
            "Sql": "create temp table staged as select 41 as n",
            "ClusterIdentifier": "dw",
            "Database": "dev",
            "SessionKeepAliveSeconds": 60,
        }
    )
    session = first["SessionId"]
    assert dataapi.wait(first["Id"])["SessionId"] == session
    assert _in_session(dataapi, session, "set TimeZone = 'America/New_York'")["Status"] == (
        "FINISHED"
    )
    desc = _in_session(
        dataapi, session, "select n + 1 as n, current_setting('TimeZone') as tz from staged"
    )
    assert desc["Status"] == "FINISHED", desc.get("Error")
    result = dataapi.service.get_statement_result({"Id": desc["Id"]})
    assert result["Records"] == [[{"longValue": 42}, {"stringValue": "America/New_York"}]]
    batch = dataapi.service.batch_execute_statement(
        {
            "Sqls": ["insert into staged values (1)", "select count(*) from staged"],
            "SessionId": session,
        }
    )
    assert dataapi.wait(batch["Id"])["Status"] == "FINISHED"
    count = dataapi.service.get_statement_result({"Id": f"{batch['Id']}:2"})["Records"]
    assert count == [[{"longValue": 2}]]
    # Outside the session: neither the table nor the setting.
    alone = dataapi.run("select * from staged")
    assert alone["Status"] == "FAILED" and "staged" in alone["Error"]
    assert "SessionId" not in alone
    listed = {
        s["Id"]: s.get("SessionId") for s in dataapi.service.list_statements({})["Statements"]
    }
    assert listed[first["Id"]] == session and listed[alone["Id"]] is None


def test_a_session_runs_one_statement_at_a_time(dataapi: Harness) -> None:
    first = dataapi.service.execute_statement(
        {"Sql": "select 1", "ClusterIdentifier": "dw", "SessionKeepAliveSeconds": 60}
    )
    session = first["SessionId"]
    dataapi.wait(first["Id"])
    slow = dataapi.service.execute_statement({"Sql": dataapi.long_query(), "SessionId": session})
    wait_until(
        lambda: dataapi.service.describe_statement({"Id": slow["Id"]})["Status"] == "STARTED",
        what="the long statement to start",
    )
    busy = _error(dataapi.service.execute_statement, {"Sql": "select 2", "SessionId": session})
    assert busy.code == "ValidationException" and "busy" in busy.message
    dataapi.service.cancel_statement({"Id": slow["Id"]})
    assert dataapi.wait(slow["Id"])["Status"] == "ABORTED"
    # Free again the moment its statement shows as ended.
    assert _in_session(dataapi, session, "select 3")["Status"] == "FINISHED"


def test_a_session_ends_after_its_keep_alive_on_the_services_clock(dataapi: Harness) -> None:
    clock = VirtualClock()
    dataapi.service.clock = clock
    first = dataapi.service.execute_statement(
        {"Sql": "select 1", "ClusterIdentifier": "dw", "SessionKeepAliveSeconds": 10}
    )
    session = first["SessionId"]
    dataapi.wait(first["Id"])
    clock.advance(9)
    # Each statement keeps it alive for its keep-alive after it ends; a new value replaces it.
    _in_session(dataapi, session, "select 2", SessionKeepAliveSeconds=30)
    clock.advance(29)
    assert _in_session(dataapi, session, "select 3")["Status"] == "FINISHED"
    clock.advance(30)
    gone = _error(dataapi.service.execute_statement, {"Sql": "select 4", "SessionId": session})
    assert gone.code == "ResourceNotFoundException"


def test_session_requests_that_are_refused(dataapi: Harness) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    err = _error(dataapi.service.execute_statement, {"Sql": "select 1", "SessionId": unknown})
    assert err.code == "ResourceNotFoundException"
    err = _error(dataapi.service.execute_statement, {"Sql": "select 1", "SessionId": "nope"})
    assert err.code == "ValidationException" and "sessionId" in err.message
    first = dataapi.service.execute_statement(
        {"Sql": "select 1", "ClusterIdentifier": "dw", "SessionKeepAliveSeconds": 60}
    )
    dataapi.wait(first["Id"])
    other = {"Sql": "select 1", "SessionId": first["SessionId"], "ClusterIdentifier": "other"}
    err = _error(dataapi.service.execute_statement, other)
    assert err.code == "ValidationException"
    # Refused requests leave the session free.
    assert _in_session(dataapi, first["SessionId"], "select 2")["Status"] == "FINISHED"
    # No keep-alive, no session.
    assert "SessionId" not in dataapi.service.execute_statement(
        {"Sql": "select 1", "ClusterIdentifier": "dw", "SessionKeepAliveSeconds": 0}
    )


def test_too_many_sessions(dataapi: Harness) -> None:
    dataapi.service.sessions.limit = 1
    first = dataapi.service.execute_statement(
        {"Sql": "select 1", "ClusterIdentifier": "dw", "SessionKeepAliveSeconds": 60}
    )
    dataapi.wait(first["Id"])
    request = {"Sql": "select 1", "ClusterIdentifier": "dw", "SessionKeepAliveSeconds": 60}
    err = _error(dataapi.service.execute_statement, request)
    assert err.code == "ActiveSessionsExceededException"


def test_an_expired_session_is_closed_by_the_heartbeat(tmp_path: Path) -> None:
    """Nobody submits again: the service's heartbeat ends the session once its keep-alive has
    run out on the service's clock (and not before). ``[dataapi] max_sessions`` from the
    project's settings caps the open sessions."""
    settings = Settings(
        project_dir=tmp_path,
        state_url=f"sqlite:///{tmp_path / 'state.db'}",
        warehouse_url="duckdb://",
        raw={"dataapi": {"heartbeat_seconds": 0.02, "max_sessions": 1}},
    )
    db = Database(settings.state_url)
    clock = VirtualClock()
    with build_dataapi(settings, db, clock) as service:
        first = service.execute_statement(
            {"Sql": "select 1", "ClusterIdentifier": "dw", "SessionKeepAliveSeconds": 5}
        )
        wait_until(
            lambda: service.describe_statement({"Id": first["Id"]})["Status"] == "FINISHED",
            what="the statement to finish",
        )
        beats = service.liveness.beats
        wait_until(lambda: service.liveness.beats >= beats + 2, what="two heartbeats")
        assert service.sessions.count() == 1
        again = {"Sql": "select 2", "ClusterIdentifier": "dw", "SessionKeepAliveSeconds": 5}
        err = _error(service.execute_statement, again)
        assert err.code == "ActiveSessionsExceededException"
        clock.advance(5)
        wait_until(lambda: service.sessions.count() == 0, what="the session closed")
    db.close()


def test_list_sessions(dataapi: Harness) -> None:
    clock = VirtualClock()
    dataapi.service.clock = clock
    kept = dataapi.service.execute_statement(
        {
            "Sql": "select 1",
            "ClusterIdentifier": "dw",
            "Database": "dev",
            "SessionKeepAliveSeconds": 10,
        }
    )
    dataapi.wait(kept["Id"])
    clock.advance(1)
    slow = dataapi.service.execute_statement(
        {"Sql": dataapi.long_query(), "ClusterIdentifier": "dw", "SessionKeepAliveSeconds": 60}
    )
    wait_until(
        lambda: dataapi.service.describe_statement({"Id": slow["Id"]})["Status"] == "STARTED",
        what="the long statement to start",
    )
    listed = dataapi.service.list_sessions({})["Sessions"]
    assert [(s["SessionId"], s["Status"]) for s in listed] == [
        (slow["SessionId"], "BUSY"),
        (kept["SessionId"], "AVAILABLE"),
    ]
    busy, available = listed
    assert busy["CurrentStatementId"] == slow["Id"] and "SessionTtl" not in busy
    assert available["SessionAliveSeconds"] == 10 and available["Database"] == "dev"
    assert available["SessionTtl"] > available["UpdatedAt"] >= available["CreatedAt"]
    dataapi.service.cancel_statement({"Id": slow["Id"]})
    dataapi.wait(slow["Id"])
    clock.advance(10)  # the first one's keep-alive runs out
    closed = dataapi.service.list_sessions({"Status": "CLOSED"})["Sessions"]
    assert [s["SessionId"] for s in closed] == [kept["SessionId"]]
    one = dataapi.service.list_sessions({"SessionId": slow["SessionId"]})["Sessions"]
    assert [s["Status"] for s in one] == ["AVAILABLE"]
    page = dataapi.service.list_sessions({"Status": "AVAILABLE", "MaxResults": 1})
    assert len(page["Sessions"]) == 1 and "NextToken" not in page
    mixed = {"SessionId": slow["SessionId"], "Status": "BUSY"}
    assert _error(dataapi.service.list_sessions, mixed).code == "ValidationException"
    clock.advance(24 * 3600)  # created more than a day ago: no longer listed
    assert dataapi.service.list_sessions({"Status": "CLOSED"})["Sessions"] == []
