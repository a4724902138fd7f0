"""A Redshift DDL + stored-procedure script, shared by the procedure and CLI tests."""

from __future__ import annotations

# Written for Redshift: layout hints, IDENTITY, ENCODE, GETDATE() in a default and inside
# plpgsql, RAISE INFO / RAISE EXCEPTION, GET DIAGNOSTICS, CALL.
SCRIPT = [
    """CREATE TABLE public.sales (
        sale_id BIGINT IDENTITY(1, 1),
        region VARCHAR(20) ENCODE lzo,
        amount DECIMAL(12, 2) ENCODE az64,
        sold_at TIMESTAMP DEFAULT GETDATE()
    ) DISTSTYLE KEY DISTKEY (region) COMPOUND SORTKEY (sold_at)""",
    """CREATE TABLE public.sales_summary (
        region VARCHAR(20) NOT NULL,
        total DECIMAL(14, 2),
        sales INTEGER,
        refreshed_at TIMESTAMP
    ) DISTSTYLE ALL SORTKEY (region) BACKUP NO""",
    """CREATE OR REPLACE PROCEDURE public.refresh_summary(min_amount DECIMAL(12, 2))
    AS $$
    DECLARE
        n INTEGER;
    BEGIN
        DELETE FROM public.sales_summary;
        INSERT INTO public.sales_summary
            SELECT region, SUM(amount), COUNT(*), GETDATE()
            FROM public.sales
            WHERE amount >= min_amount
            GROUP BY region;
        GET DIAGNOSTICS n := ROW_COUNT;
        RAISE INFO 'refreshed % regions', n;
        IF n = 0 THEN
            RAISE EXCEPTION 'no sales of at least %', min_amount;
        END IF;
    END;
    $$ LANGUAGE plpgsql""",
    "INSERT INTO public.sales (region, amount) VALUES ('north', 10.50), ('north', 4.00), "
    "('south', 20.25), ('east', 1.00)",
    "CALL public.refresh_summary(4)",
]
