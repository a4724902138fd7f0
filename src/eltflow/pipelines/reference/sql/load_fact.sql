-- Rebuild the yearly sales fact through both dimensions; run as one batch (one transaction).
DELETE FROM public.fact_yearly_sale;
INSERT INTO public.fact_yearly_sale
    (order_year, supplier_nation, customer_nation, revenue, quantity, order_count, line_count, loaded_at)
SELECT DATE_PART(year, o.o_orderdate)::INTEGER,
       sd.nation_name,
       cd.nation_name,
       SUM(l.l_extendedprice * (1 - l.l_discount)),
       SUM(l.l_quantity),
       COUNT(DISTINCT o.o_orderkey),
       COUNT(*),
       GETDATE()
FROM staging.lineitem l
JOIN staging.orders o ON l.l_orderkey = o.o_orderkey
JOIN public.supplier sd ON l.l_suppkey = sd.s_suppkey
JOIN public.customer cd ON o.o_custkey = cd.c_custkey
GROUP BY 1, 2, 3;
