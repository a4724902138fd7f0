"""The shape of AWS's published SDK-integration ELT sample, written from its description:
``aws-sdk:s3:getObject`` of a SQL file of CREATE OR REPLACE PROCEDURE statements (Redshift DDL
in their bodies) → ``batchExecuteStatement`` → describe loop → a Parallel of two dimension
loads (``call``) → the fact load ``call sp_fact(trunc(sysdate))`` → the validation
``select 1/count(1)``, which must fail the pipeline while the fact is empty. On both engines:
the procedures are plain SQL bodies, which DuckDB runs too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.integration.dataapi.dataapi_harness import Harness

from eltflow.integrations import redshift_data, s3
from eltflow.integrations.base import Registry
from eltflow.runtime.local import execute
from eltflow.s3.service import S3Service

DATA = "arn:aws:states:::aws-sdk:redshiftdata:"
TARGET = {"ClusterIdentifier": "dw", "Database": "dev"}

PROCEDURES = """
CREATE OR REPLACE PROCEDURE sp_dim_customer() AS $$
BEGIN
  CREATE TEMP TABLE stage_customer (id INT ENCODE az64, name VARCHAR(MAX)) DISTSTYLE ALL;
  INSERT INTO stage_customer SELECT DISTINCT customer_id, NVL(customer, 'n/a') FROM src;
  DELETE FROM dim_customer;
  INSERT INTO dim_customer SELECT id, name FROM stage_customer;
  DROP TABLE stage_customer;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE PROCEDURE sp_dim_supplier() AS $$
BEGIN
  DELETE FROM dim_supplier;
  INSERT INTO dim_supplier SELECT DISTINCT supplier_id, NVL(supplier, 'n/a') FROM src;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE PROCEDURE sp_fact(p_day DATE) AS $$
BEGIN
  DELETE FROM fact WHERE day = p_day;
  INSERT INTO fact SELECT customer_id, supplier_id, p_day, amount FROM src
    WHERE TRUNC(sold_at) = p_day;
END;
$$ LANGUAGE plpgsql;
"""

DDL = [
    "create table src (customer_id int, customer varchar(20), supplier_id int, "
    "supplier varchar(20), amount decimal(10,2), sold_at timestamp) diststyle even",
    "create table dim_customer (id int primary key, name varchar(max)) diststyle all",
    "create table dim_supplier (id int primary key, name varchar(max)) diststyle all",
    "create table fact (customer_id int, supplier_id int, day date, amount decimal(10,2)) "
    "diststyle key distkey (customer_id) compound sortkey (day)",
]


def _run_sql(
    name: str, action: str, parameters: dict[str, Any], then: str, failed: str = "Failed"
) -> dict[str, Any]:
    """Submit, then Wait → DescribeStatement → Choice until FINISHED; FAILED goes to Fail."""
    key = name.replace(" ", "_")
    return {
        name: {
            "Type": "Task",
            "Resource": DATA + action,
            "Parameters": {**TARGET, **parameters},
            "ResultSelector": {"Id.$": "$.Id"},
            "ResultPath": f"$.{key}",
            "Next": f"{name}: wait",
        },
        f"{name}: wait": {"Type": "Wait", "Seconds": 1, "Next": f"{name}: describe"},
        f"{name}: describe": {
            "Type": "Task",
            "Resource": DATA + "describeStatement",
            "Parameters": {"Id.$": f"$.{key}.Id"},
            "ResultSelector": {"Id.$": "$.Id", "Status.$": "$.Status"},
            "ResultPath": f"$.{key}",
            "Next": f"{name}: done?",
        },
        f"{name}: done?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": f"$.{key}.Status", "StringEquals": "FINISHED", "Next": then},
                {"Variable": f"$.{key}.Status", "StringEquals": "FAILED", "Next": failed},
                {"Variable": f"$.{key}.Status", "StringEquals": "ABORTED", "Next": failed},
            ],
            "Default": f"{name}: wait",
        },
    }


FAILED = {"Failed": {"Type": "Fail", "Error": "SqlFailed", "Cause": "a statement failed"}}


def _branch(procedure: str) -> dict[str, Any]:
    done, failed = f"{procedure} loaded", f"{procedure} failed"
    call = {"Sql": f"call {procedure}()"}
    return {
        "StartAt": procedure,
        "States": {
            **_run_sql(procedure, "executeStatement", call, done, failed),
            done: {"Type": "Succeed"},
            failed: {"Type": "Fail", "Error": "SqlFailed", "Cause": f"{procedure} failed"},
        },
    }


PIPELINE: dict[str, Any] = {
    "StartAt": "Read procedures",
    "States": {
        "Read procedures": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "etl-scripts", "Key": "sql/procedures.sql"},
            "ResultSelector": {"sql.$": "$.Body"},
            "ResultPath": "$.script",
            "Next": "Create procedures",
        },
        **_run_sql(
            "Create procedures",
            "batchExecuteStatement",
            {"Sqls.$": "States.Array($.script.sql)"},
            "Dimensions",
        ),
        "Dimensions": {
            "Type": "Parallel",
            "Branches": [_branch("sp_dim_customer"), _branch("sp_dim_supplier")],
            "ResultPath": None,
            "Next": "Fact",
        },
        **_run_sql("Fact", "executeStatement", {"Sql": "call sp_fact(trunc(sysdate))"}, "Validate"),
        **_run_sql(
            "Validate", "executeStatement", {"Sql": "select 1/count(1) from fact"}, "Loaded"
        ),
        "Loaded": {"Type": "Succeed"},
        **FAILED,
    },
}


def _registry(dataapi: Harness, root: Path) -> Registry:
    registry = Registry()
    redshift_data.register(registry, dataapi.service)
    s3.register(registry, S3Service(root))
    return registry


def test_the_sdk_integration_elt_sample_on_local_s3(dataapi: Harness, tmp_path: Path) -> None:
    store = S3Service(tmp_path / "s3")
    store.create_bucket("etl-scripts", datetime.now(UTC))
    store.put_object(
        "etl-scripts", "sql/procedures.sql", PROCEDURES.encode(), content_type="text/plain"
    )
    assert dataapi.wait(dataapi.batch(DDL))["Status"] == "FINISHED"
    registry = _registry(dataapi, tmp_path / "s3")

    empty = execute(PIPELINE, {}, registry=registry, virtual_time=True)
    assert empty.status == "FAILED", (empty.error, empty.cause)
    assert empty.error == "SqlFailed"
    validation = dataapi.service.list_statements({"MaxResults": 1})["Statements"][0]
    assert validation["QueryString"] == "select 1/count(1) from fact"
    assert validation["Status"] == "FAILED"

    loaded = dataapi.run(
        "insert into src values (1, 'ann', 10, 'acme', 9.50, sysdate), "
        "(2, null, 10, 'acme', 1.25, sysdate), (1, 'ann', 11, null, 3.00, '2001-01-01 10:00')"
    )
    assert loaded["Status"] == "FINISHED"
    done = execute(PIPELINE, {}, registry=registry, virtual_time=True)
    assert done.status == "SUCCEEDED", (done.error, done.cause)
    assert dataapi.rows("select count(*) from fact") == [[{"longValue": 2}]]
    assert dataapi.rows("select name from dim_customer order by id") == [
        [{"stringValue": "ann"}],
        [{"stringValue": "n/a"}],
    ]
    assert dataapi.rows("select count(*) from dim_supplier") == [[{"longValue": 2}]]
