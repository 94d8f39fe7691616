-- Sensor readings and threshold alerts of the provenance read model (docs/provenance.md, Sensor data and
-- threshold alerts). Derived data only, built from committed `provenance.sensor.readings` batches and the
-- mirrored rules: `POST /provenance/v1/read-model/rebuild` empties and rebuilds them like the rest.

-- Every measurement of every anchored batch, one row per subject, device, measurement type, unit and
-- instant: the same reading anchored again (another batch, another subject's batch) is kept once. Values
-- are the signed decimal text, compared as exact numerics, never floats. Rules are evaluated over these rows,
-- so a breach lasting across several batches is seen whole.
CREATE TABLE provenance.sensor_readings (
  subject text COLLATE "C" NOT NULL,
  device_id text COLLATE "C" NOT NULL,
  type text COLLATE "C" NOT NULL,
  uom text COLLATE "C" NOT NULL,
  observed_at timestamptz NOT NULL,
  value text NOT NULL,
  organization_id text NOT NULL,
  batch_id text NOT NULL,
  block_number bigint NOT NULL,
  PRIMARY KEY (subject, device_id, type, uom, observed_at)
);

-- One row per alert (`alertOf`): `alert` is the alert as it stands (a breach that goes on extends its `to`,
-- `durationSeconds` and `worstValue`); `event_id` is the disposition event derived when it first appeared,
-- in the block, transaction and position given (the list order: deterministic at every member and rebuild).
CREATE TABLE provenance.sensor_alerts (
  alert_id text PRIMARY KEY,
  organization_id text NOT NULL,
  rule_id text NOT NULL,
  rule_version integer NOT NULL,
  subject text COLLATE "C" NOT NULL,
  -- The GTIN Digital Link of an SGTIN or TPX subject, so a product's alerts are found by its GTIN.
  product text COLLATE "C",
  alert jsonb NOT NULL,
  event_id text NOT NULL,
  batch_id text NOT NULL,
  block_number bigint NOT NULL,
  leaf_index integer NOT NULL,
  position integer NOT NULL,
  transaction_id text NOT NULL,
  raised_at timestamptz NOT NULL,
  updated_block bigint NOT NULL
);
CREATE UNIQUE INDEX sensor_alerts_order ON provenance.sensor_alerts (block_number, leaf_index, position);
CREATE INDEX sensor_alerts_subject ON provenance.sensor_alerts (subject, block_number, leaf_index, position);
CREATE INDEX sensor_alerts_product ON provenance.sensor_alerts (product, block_number, leaf_index, position) WHERE product IS NOT NULL;
CREATE INDEX sensor_alerts_transaction ON provenance.sensor_alerts (transaction_id);
