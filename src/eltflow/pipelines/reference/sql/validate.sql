-- Validation counts shown after a run.
SELECT 'public.customer' AS table_name, COUNT(*) AS row_count FROM public.customer
UNION ALL SELECT 'public.supplier', COUNT(*) FROM public.supplier
UNION ALL SELECT 'public.fact_yearly_sale', COUNT(*) FROM public.fact_yearly_sale
UNION ALL SELECT 'staging.customer', COUNT(*) FROM staging.customer
UNION ALL SELECT 'staging.supplier', COUNT(*) FROM staging.supplier
UNION ALL SELECT 'staging.nation', COUNT(*) FROM staging.nation
UNION ALL SELECT 'staging.orders', COUNT(*) FROM staging.orders
UNION ALL SELECT 'staging.lineitem', COUNT(*) FROM staging.lineitem;
