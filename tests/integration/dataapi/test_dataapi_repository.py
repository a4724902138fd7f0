"""The Data API's statement rows on both state stores (SQLite, PostgreSQL): ListStatements'
filters, its keyset paging, and the recovery of statements whose owner died, straight
against :class:`StatementRepository` (its SQL is the named queries of store/sql/dataapi.sql)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from eltflow.dataapi.model import ACTIVE, Statement, Status
from eltflow.dataapi.repository import StatementRepository
from eltflow.store.db import Database
from eltflow.store.migrate import migrate
from eltflow.store.queries import service_queries


@pytest.fixture
def repo(store_url: str) -> Iterator[StatementRepository]:
    db = Database(store_url)
    migrate(db)
    yield StatementRepository(db)
    db.close()


def _stmt(sid: str, created_us: int, **fields: object) -> Statement:
    base = Statement(
        id=sid,
        query_string="select 1",
        status=Status.FINISHED,
        created_us=created_us,
        updated_us=created_us,
    )
    return base.evolve(**fields)


def _list(repo: StatementRepository, **filters: object) -> list[str]:
    args: dict[str, object] = {
        "status": None,
        "name": None,
        "cluster": None,
        "workgroup": None,
        "database": None,
        "before_us": None,
        "before_id": None,
        "limit": 100,
        **filters,
    }
    return [s.id for s in repo.list(**args)]  # type: ignore[arg-type]


def test_filters_match_exactly_and_empty_ones_are_none(repo: StatementRepository) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:m:run-1"
    repo.insert(
        [
            _stmt("a", 1, statement_name="job_1", cluster_identifier="c1", database_name="dev"),
            _stmt("b", 2, statement_name="jobX1", workgroup_name="w1", execution_arn=arn),
            _stmt("c", 3, statement_name="50%_off", status=Status.FAILED, execution_arn=arn),
            _stmt("d", 4, is_batch=True),
            _stmt("d:1", 4, parent_id="d", seq=1),
        ]
    )
    assert _list(repo) == ["d", "c", "b", "a"]  # sub-statements are never listed
    assert _list(repo, status="", name="", cluster="", workgroup="", database="") == [
        "d",
        "c",
        "b",
        "a",
    ]
    assert _list(repo, status="FAILED") == ["c"]
    # A prefix, with LIKE's wildcards taken literally.
    assert _list(repo, name="job_") == ["a"]
    assert _list(repo, name="job") == ["b", "a"]
    assert _list(repo, name="50%") == ["c"]
    assert _list(repo, name="5_%") == []
    assert _list(repo, cluster="c1") == ["a"]
    assert _list(repo, workgroup="w1") == ["b"]
    assert _list(repo, database="dev") == ["a"]
    assert _list(repo, execution_arn=arn) == ["c", "b"]
    assert _list(repo, execution_arn=arn, status="FAILED") == ["c"]
    assert _list(repo, execution_arn=arn + "-other") == []
    assert _list(repo, cluster="c1", database="other") == []


@pytest.mark.parametrize("execution", [False, True])
def test_keyset_paging_breaks_ties_on_the_id(repo: StatementRepository, execution: bool) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:m:run-2" if execution else None
    repo.insert(
        [
            _stmt(sid, us, execution_arn=arn)
            for sid, us in [("a", 10), ("b", 20), ("c", 20), ("d", 20), ("e", 30)]
        ]
    )
    seen: list[str] = []
    before: tuple[int, str] | None = None
    while True:
        page = repo.list(
            status=None,
            name=None,
            cluster=None,
            workgroup=None,
            database=None,
            execution_arn=arn,
            before_us=before[0] if before else None,
            before_id=before[1] if before else None,
            limit=2,
        )
        seen += [s.id for s in page]
        if len(page) < 2:
            break
        before = (page[-1].created_us, page[-1].id)
    assert seen == ["e", "d", "c", "b", "a"]
    # Half a cursor is no cursor.
    assert _list(repo, execution_arn=arn, before_us=20, limit=1) == ["e"]


def test_statements_of_dead_owners_fail_and_live_ones_stay(repo: StatementRepository) -> None:
    repo.insert(
        [
            _stmt("mine", 1, status=Status.STARTED, owner="me"),
            _stmt("live", 2, status=Status.PICKED, owner="alive"),
            _stmt("dead", 3, status=Status.SUBMITTED, owner="gone"),
            _stmt("done", 4, status=Status.FINISHED, owner="gone"),
        ]
    )
    repo.heartbeat("alive", 100)
    repo.heartbeat("gone", 5)
    assert repo.count_active() == 3
    (orphan,) = repo.orphans("me", now_us=50)
    assert orphan.id == "dead"
    failed = orphan.evolve(status=Status.FAILED, error="the process died", updated_us=50)
    assert repo.settle([failed]) == 1
    assert repo.settle([failed]) == 0  # settled once: another instance finds nothing to do
    got = {sid: repo.get(sid) for sid in ("mine", "live", "dead", "done")}
    assert {k: v.status for k, v in got.items() if v} == {
        "mine": Status.STARTED,
        "live": Status.PICKED,
        "dead": Status.FAILED,
        "done": Status.FINISHED,
    }
    dead = got["dead"]
    assert dead is not None and (dead.error, dead.updated_us) == ("the process died", 50)
    assert repo.count_active() == 2
    repo.retire("alive")
    assert [s.id for s in repo.orphans("me", now_us=50)] == ["live"]  # lost its heartbeat


def test_a_dead_owners_batch_is_adopted_once(repo: StatementRepository) -> None:
    repo.insert(
        [
            _stmt(
                "b",
                1,
                status=Status.STARTED,
                owner="gone",
                is_batch=True,
                redshift_pid=7,
                server_xact=9,
            ),
            _stmt("b:1", 1, status=Status.STARTED, owner="gone", parent_id="b", seq=1),
            _stmt("b:2", 1, status=Status.STARTED, owner="gone", parent_id="b", seq=2),
            _stmt("other", 2, status=Status.STARTED, owner="gone"),
        ]
    )
    assert repo.adopt("b", "gone", "me", 60)
    assert not repo.adopt("b", "gone", "rival", 61)  # its owner is "me" now
    rows = [repo.get(sid) for sid in ("b", "b:1", "b:2", "other")]
    assert [(r.status, r.owner, r.updated_us) for r in rows if r] == [
        (Status.SUBMITTED, "me", 60),
        (Status.SUBMITTED, "me", 60),
        (Status.SUBMITTED, "me", 60),
        (Status.STARTED, "gone", 2),
    ]
    assert (rows[0].redshift_pid, rows[0].server_xact) == (None, None)  # type: ignore[union-attr]
    repo.settle([_stmt("other", 2, status=Status.FAILED, error="x", updated_us=70)])
    assert not repo.adopt("other", "gone", "me", 80)  # settled meanwhile: keeps its outcome


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_the_queries_active_statuses_are_the_models(dialect: str) -> None:
    lists = [
        set(re.findall(r"'(\w+)'", m))
        for sql in service_queries("dataapi", dialect).values()
        for m in re.findall(r"status IN \(([^)]*)\)", sql)
    ]
    assert len(lists) == 4
    assert all(found == {s.value for s in ACTIVE} for found in lists)
