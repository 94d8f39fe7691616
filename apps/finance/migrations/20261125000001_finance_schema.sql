-- The finance service owns this schema; no other service reads or writes it.
COMMENT ON SCHEMA finance IS 'Alliance finance service: receivables, financing, warehouse receipts and leases';
