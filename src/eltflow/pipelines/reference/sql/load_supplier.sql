-- Type-1 upsert of the supplier dimension; run as one batch (one transaction).
DELETE FROM public.supplier USING staging.supplier s WHERE public.supplier.s_suppkey = s.s_suppkey;
INSERT INTO public.supplier (s_suppkey, s_name, s_address, s_phone, s_acctbal, nation_name, loaded_at)
SELECT s.s_suppkey, s.s_name, s.s_address, s.s_phone, s.s_acctbal, n.n_name, GETDATE()
FROM staging.supplier s
JOIN staging.nation n ON s.s_nationkey = n.n_nationkey;
