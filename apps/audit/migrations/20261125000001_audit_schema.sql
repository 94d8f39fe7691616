-- The audit service owns this schema; no other service reads or writes it.
COMMENT ON SCHEMA audit IS 'Alliance audit service: read-only verification runs, look-through views, access log and exports';
