"""Parsing Redshift COPY / UNLOAD (no engine)."""

from __future__ import annotations

import pytest

from eltflow.warehouse.base import SqlError
from eltflow.warehouse.copy_sql import parse_copy, parse_unload, unload_files


def test_copy_options() -> None:
    c = parse_copy(
        "COPY public.t (a, b) FROM 's3://bkt/p/' IAM_ROLE 'arn:aws:iam::1:role/r' "
        "FORMAT AS CSV QUOTE AS '''' DELIMITER ';' IGNOREHEADER AS 2 NULL AS 'NA' "
        "DATEFORMAT 'DD.MM.YYYY' TIMEFORMAT 'auto' GZIP EMPTYASNULL BLANKSASNULL "
        "REGION 'eu-west-1' COMPUPDATE OFF STATUPDATE OFF MAXERROR 0;"
    )
    assert (c.table, c.columns, c.source, c.format) == (
        "public.t",
        ("a", "b"),
        "s3://bkt/p/",
        "csv",
    )
    assert (c.quote, c.delimiter, c.ignore_header, c.null) == ("'", ";", 2, "NA")
    assert (c.date_format, c.time_format, c.compression) == ("DD.MM.YYYY", "auto", "gzip")
    assert c.empty_as_null and c.blanks_as_null


def test_copy_json_and_parquet() -> None:
    assert parse_copy("copy t from 's3://b/k' iam_role default json 'auto'").format == "json"
    assert parse_copy("copy t from 's3://b/k' iam_role default parquet").format == "parquet"
    with pytest.raises(SqlError, match="JSONPaths"):
        parse_copy("copy t from 's3://b/k' iam_role default json 's3://b/paths.json'")
    with pytest.raises(SqlError, match="unknown or unsupported parameter BOGUS"):
        parse_copy("copy t from 's3://b/k' bogus")


def test_unload_options_and_file_names() -> None:
    u = parse_unload(
        "UNLOAD ('select * from t where s = ''x''') TO 's3://b/out/t_' IAM_ROLE default "
        "FORMAT AS PARQUET PARALLEL OFF ALLOWOVERWRITE MANIFEST VERBOSE"
    )
    assert u.query == "select * from t where s = 'x'"
    assert (u.target, u.format, u.parallel, u.allow_overwrite, u.manifest) == (
        "s3://b/out/t_",
        "parquet",
        False,
        True,
        True,
    )
    assert unload_files(u) == ("000", ".parquet")
    csv = parse_unload("unload ('select 1') to 's3://b/x_' iam_role default csv header gzip")
    assert unload_files(csv) == ("0000_part_00", ".gz")
