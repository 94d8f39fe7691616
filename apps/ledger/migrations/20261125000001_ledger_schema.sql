-- The ledger service owns this schema; no other service reads or writes it.
COMMENT ON SCHEMA ledger IS 'Alliance ledger service: ordering, blocks, world state, proofs and checkpoints of one member node';
