-- The provenance service owns this schema; no other service reads or writes it.
COMMENT ON SCHEMA provenance IS 'Alliance provenance service: EPCIS 2.0 events, master data, lineage, custody and sensor alerts';
