"""An ExecuteStatement whose Sql holds several statements runs them as one transaction, as
the Redshift Data API does (issue 17): a failing statement leaves nothing of the others,
while an explicit COMMIT inside the text still ends the transaction where it says."""

from __future__ import annotations

from tests.integration.dataapi.dataapi_harness import Harness


def test_a_failing_statement_rolls_back_the_whole_text(dataapi: Harness) -> None:
    dataapi.run("create table a (x integer)")
    desc = dataapi.run("insert into a values (1); insert into missing values (2)")
    assert desc["Status"] == "FAILED"
    assert "missing" in desc["Error"]
    assert dataapi.rows("select count(*) from a") == [[{"longValue": 0}]]


def test_a_text_that_succeeds_commits_every_statement(dataapi: Harness) -> None:
    dataapi.run("create table a (x integer)")
    desc = dataapi.run("insert into a values (1); insert into a values (2)")
    assert desc["Status"] == "FINISHED"
    assert dataapi.rows("select count(*) from a") == [[{"longValue": 2}]]


def test_an_explicit_commit_still_ends_the_transaction_early(dataapi: Harness) -> None:
    dataapi.run("create table a (x integer)")
    desc = dataapi.run("insert into a values (1); commit; insert into missing values (2)")
    assert desc["Status"] == "FAILED"
    assert dataapi.rows("select count(*) from a") == [[{"longValue": 1}]]
