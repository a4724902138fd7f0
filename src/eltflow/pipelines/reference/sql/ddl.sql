-- Targets of the reference pipeline (Redshift dialect; translated for DuckDB/PostgreSQL).
CREATE SCHEMA IF NOT EXISTS public;

CREATE TABLE IF NOT EXISTS public.supplier (
    s_suppkey   BIGINT NOT NULL,
    s_name      VARCHAR(25),
    s_address   VARCHAR(40),
    s_phone     VARCHAR(15),
    s_acctbal   DECIMAL(15, 2),
    nation_name VARCHAR(25),
    loaded_at   TIMESTAMP,
    PRIMARY KEY (s_suppkey)
) DISTSTYLE ALL SORTKEY (s_suppkey);

CREATE TABLE IF NOT EXISTS public.customer (
    c_custkey    BIGINT NOT NULL,
    c_name       VARCHAR(25),
    c_address    VARCHAR(40),
    c_phone      VARCHAR(15),
    c_acctbal    DECIMAL(15, 2),
    c_mktsegment VARCHAR(10),
    nation_name  VARCHAR(25),
    loaded_at    TIMESTAMP,
    PRIMARY KEY (c_custkey)
) DISTKEY (c_custkey) SORTKEY (c_custkey);

CREATE TABLE IF NOT EXISTS public.fact_yearly_sale (
    order_year      INTEGER NOT NULL,
    supplier_nation VARCHAR(25) NOT NULL,
    customer_nation VARCHAR(25) NOT NULL,
    revenue         DECIMAL(20, 4) NOT NULL,
    quantity        DECIMAL(18, 2) NOT NULL,
    order_count     BIGINT NOT NULL,
    line_count      BIGINT NOT NULL,
    loaded_at       TIMESTAMP
) DISTSTYLE AUTO SORTKEY (order_year);

-- One row per run attempt (won, skipped or failed); append-only, so no key.
CREATE TABLE IF NOT EXISTS public.etl_run_history (
    execution_arn VARCHAR(256) NOT NULL,
    job_id        VARCHAR(64) NOT NULL,
    started_at    VARCHAR(40),
    ended_at      VARCHAR(40),
    outcome       VARCHAR(16) NOT NULL,
    rows_loaded   BIGINT,
    error         VARCHAR(256),
    cause         VARCHAR(4000)
);
