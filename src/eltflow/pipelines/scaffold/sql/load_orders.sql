-- LoadOrders: one Task runs this whole file as one transaction (a Data API batch).
-- On AWS the file travels in the function's package (`eltflow export cloudformation` zips sql/).
CREATE TABLE IF NOT EXISTS public.orders (order_id INTEGER, amount DECIMAL(12,2));
CREATE TABLE IF NOT EXISTS public.load_log (job_id VARCHAR(64), orders INTEGER, revenue DECIMAL(12,2));
DELETE FROM public.orders;
INSERT INTO public.orders VALUES (1, 10.50), (2, 20.00), (3, 7.25);
