-- GET /ledger/v1/state pages through the world state in byte order of the
-- keys (the protocol's order, whatever the database's collation), so that a
-- verifier can compare every row with the writes it replayed.
CREATE INDEX state_key_bytes ON state (key COLLATE "C");
