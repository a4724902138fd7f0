"""Smoke test of bench/pipeline_bench.py at a tiny scale factor: both sides run, the pipeline
really loads, and the report says what was measured. No timing assertions: the numbers
depend on the machine; this only proves the harness measures what it says."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import pipeline_bench

from eltflow.pipelines import jobs
from eltflow.pipelines.reference import ReferenceConfig

SF = 0.01


def test_both_sides_run_and_the_report_names_them(tmp_path: Path) -> None:
    result = pipeline_bench.bench(SF, repeat=1, folder=tmp_path / "project")

    assert result.scale_factor == SF
    assert len(result.pipeline_seconds) == len(result.direct_seconds) == 1
    assert result.pipeline > 0 and result.direct > 0
    assert result.staging.rows["customer"] == int(150_000 * SF)
    assert result.staging.rows["supplier"] == int(10_000 * SF)
    assert result.fact_rows > 0
    # Every load state was matched with its statement, and the statement fits inside it.
    loads = result.best_run.loads
    assert [t.state for t in loads] == ["LoadSupplierDim", "LoadCustomerDim", "LoadFact"]
    assert all(0 < t.statement_seconds <= t.state_seconds for t in loads)
    assert 0 < result.best_run.critical_sql_seconds < result.pipeline
    text = pipeline_bench.render(result)
    for needle in ("SF 0.01", "staging", "straight to DuckDB", "overhead", "LoadFact"):
        assert needle in text


def test_direct_run_loads_what_the_pipeline_loads(tmp_path: Path) -> None:
    # The direct side must do the same work: after it, the fact has the pipeline's rows.
    project_dir = tmp_path / "project"
    result = pipeline_bench.bench(SF, repeat=1, folder=project_dir)
    path = str(project_dir / ".eltflow" / "warehouse.duckdb")
    pipeline_bench.run_direct(path)

    from eltflow.app import build_app
    from eltflow.config import load_settings

    app = build_app(load_settings(project_dir, environ={}))
    try:
        config = ReferenceConfig()
        assert app.dataapi is not None
        rows = jobs.query(
            app.dataapi,
            "SELECT COUNT(*) AS n FROM public.fact_yearly_sale",
            cluster=config.cluster,
            database=config.database,
        )
    finally:
        app.close()
    assert int(str(rows[0]["n"])) == result.fact_rows


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        pipeline_bench.main(["--pipeline-sf", "0"])
    assert info.value.code == 2
    assert "--pipeline-sf must be positive" in capsys.readouterr().err
