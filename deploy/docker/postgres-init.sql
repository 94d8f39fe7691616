-- Runs once, on the first start of an empty data volume (docker-entrypoint-initdb.d),
-- as POSTGRES_USER. One database per consortium member: each organization's
-- ledger node keeps its own copy of the chain, and no member's database is
-- trusted by another. org1 (the core manufacturer) also hosts identity,
-- provenance, finance, audit and the gateway; the regulator its audit service.
-- Each service owns its own schema inside its organization's database.
CREATE DATABASE alliance_org1;
CREATE DATABASE alliance_org2;
CREATE DATABASE alliance_org3;
CREATE DATABASE alliance_regulator;
