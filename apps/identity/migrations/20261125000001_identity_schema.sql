-- The identity service owns this schema; no other service reads or writes it.
COMMENT ON SCHEMA identity IS 'Alliance identity service: consortium membership, organizations, agents, roles, devices, keys and sessions';
