-- Type-1 upsert of the customer dimension; run as one batch (one transaction).
DELETE FROM public.customer USING staging.customer c WHERE public.customer.c_custkey = c.c_custkey;
INSERT INTO public.customer (c_custkey, c_name, c_address, c_phone, c_acctbal, c_mktsegment, nation_name, loaded_at)
SELECT c.c_custkey, c.c_name, c.c_address, c.c_phone, c.c_acctbal, c.c_mktsegment, n.n_name, GETDATE()
FROM staging.customer c
JOIN staging.nation n ON c.c_nationkey = n.n_nationkey;
