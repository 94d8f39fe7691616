-- The provenance read model: the EPCIS repository of this organization's node, built from the
-- committed blocks alone (every capture transaction carries its events' text, docs/provenance.md).
-- Derived data only: `POST /provenance/v1/read-model/rebuild` (or truncating these tables) rebuilds it.

CREATE TABLE provenance.projection (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  chain_id text,
  node_id text,
  -- The last block applied; -1 before the genesis.
  last_block bigint NOT NULL DEFAULT -1,
  last_header_hash text,
  -- Provenance Kafka events are published for blocks after this one only: a rebuild announces nothing again.
  published_through bigint NOT NULL DEFAULT -1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO provenance.projection DEFAULT VALUES;

-- One row per anchored EPCIS event. `seq` is the repository order (block, transaction, position):
-- query pages follow it, so a page token stays valid while events are added.
CREATE TABLE provenance.events (
  seq bigint PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  -- The CBV 2.0 event hash ID the capture stated; `hash_verified` whether this node recomputed the same from the text.
  event_hash text NOT NULL,
  hash_verified boolean NOT NULL,
  type text NOT NULL,
  action text,
  biz_step text,
  disposition text,
  read_point text,
  biz_location text,
  transformation_id text,
  persistent_set text[] NOT NULL DEFAULT '{}',
  persistent_unset text[] NOT NULL DEFAULT '{}',
  event_time timestamptz NOT NULL,
  event_time_zone_offset text,
  -- The block's timestamp: when the repository (the chain) recorded the event, the same at every member.
  record_time timestamptz NOT NULL,
  error_declaration_time timestamptz,
  organization_id text NOT NULL,
  capture_id text NOT NULL,
  block_number bigint NOT NULL,
  transaction_id text NOT NULL,
  leaf_index bigint NOT NULL,
  -- Where the event came from: a capture (`capture`) or a derived shipping/receiving event of an accepted transfer.
  origin text NOT NULL DEFAULT 'capture',
  -- The exact JSON text on the chain, and the document's @context text.
  body text NOT NULL,
  context text
);
CREATE INDEX events_event_time ON provenance.events (event_time, seq);
CREATE INDEX events_record_time ON provenance.events (record_time, seq);
CREATE INDEX events_type ON provenance.events (type, seq);
CREATE INDEX events_biz_step ON provenance.events (biz_step, seq);
CREATE INDEX events_biz_location ON provenance.events (biz_location, seq);
CREATE INDEX events_read_point ON provenance.events (read_point, seq);
CREATE INDEX events_transaction ON provenance.events (transaction_id);

-- The identifiers an event names, by role: epc (epcList), parent (parentID), child (childEPCs),
-- input / output (transformation), and the class roles of quantity lists
-- (quantity, child_quantity, input_quantity, output_quantity) with their quantity and uom.
-- GS1 keys are stored in their one form (canonical GS1 Digital Link), others as given.
CREATE TABLE provenance.event_epcs (
  seq bigint NOT NULL REFERENCES provenance.events (seq) ON DELETE CASCADE,
  role text NOT NULL,
  -- Byte order ("C"): a prefix (a GTIN's instances, an EPC pattern) is an index range.
  epc text COLLATE "C" NOT NULL,
  quantity numeric,
  uom text
);
CREATE INDEX event_epcs_epc ON provenance.event_epcs (epc, role, seq);
CREATE INDEX event_epcs_seq ON provenance.event_epcs (seq);

CREATE TABLE provenance.event_biz_transactions (
  seq bigint NOT NULL REFERENCES provenance.events (seq) ON DELETE CASCADE,
  type text,
  biz_transaction text NOT NULL
);
CREATE INDEX event_biz_transactions_id ON provenance.event_biz_transactions (biz_transaction, seq);

-- source / destination lists: kind 'source' or 'destination', its type (owning_party, possessing_party, location) and id.
CREATE TABLE provenance.event_parties (
  seq bigint NOT NULL REFERENCES provenance.events (seq) ON DELETE CASCADE,
  kind text NOT NULL,
  type text NOT NULL,
  party text NOT NULL
);
CREATE INDEX event_parties_seq ON provenance.event_parties (seq);

-- One row per sensorReport: its type, device, value or min/max/mean, uom and time (values as exact decimals).
CREATE TABLE provenance.event_sensor_reports (
  seq bigint NOT NULL REFERENCES provenance.events (seq) ON DELETE CASCADE,
  type text,
  device_id text,
  value numeric,
  min_value numeric,
  max_value numeric,
  mean_value numeric,
  uom text,
  time timestamptz
);
CREATE INDEX event_sensor_reports_seq ON provenance.event_sensor_reports (seq);
CREATE INDEX event_sensor_reports_type ON provenance.event_sensor_reports (type, value);

-- The lineage graph: `from_node` went into `to_node` (a child into its parent, an input into an
-- output, a lot into its instances, an associated child into its parent), by the event at `seq`.
CREATE TABLE provenance.lineage (
  from_node text COLLATE "C" NOT NULL,
  to_node text COLLATE "C" NOT NULL,
  kind text NOT NULL,
  seq bigint NOT NULL REFERENCES provenance.events (seq) ON DELETE CASCADE,
  event_time timestamptz NOT NULL
);
CREATE INDEX lineage_from ON provenance.lineage (from_node) INCLUDE (to_node, kind, seq);
CREATE INDEX lineage_to ON provenance.lineage (to_node) INCLUDE (from_node, kind, seq);

-- Problems this node found in committed data (a stated event hash its recomputation does not give).
CREATE TABLE provenance.problems (
  id bigserial PRIMARY KEY,
  block_number bigint NOT NULL,
  transaction_id text NOT NULL,
  organization_id text,
  code text NOT NULL,
  detail text NOT NULL,
  found_at timestamptz NOT NULL DEFAULT now()
);

-- Capture jobs of this service (GS1 REST binding, /capture): not derived, not rebuilt.
CREATE TABLE provenance.capture_jobs (
  capture_id text PRIMARY KEY,
  organization_id text NOT NULL,
  -- Who asked (agent id of the token), and with which Idempotency-Key, if any.
  requested_by text NOT NULL,
  idempotency_key text,
  error_behaviour text NOT NULL DEFAULT 'rollback',
  status text NOT NULL CHECK (status IN ('pending', 'submitted', 'committed', 'failed')),
  event_count integer NOT NULL,
  event_ids text[] NOT NULL,
  document_hash text NOT NULL,
  -- The signed envelope (canonical JSON bytes): resubmitted as is after a crash, so a job commits once.
  envelope bytea,
  transaction_id text,
  block_number bigint,
  errors jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE UNIQUE INDEX capture_jobs_idempotency ON provenance.capture_jobs (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX capture_jobs_open ON provenance.capture_jobs (created_at) WHERE status IN ('pending', 'submitted');
CREATE INDEX capture_jobs_created ON provenance.capture_jobs (created_at DESC, capture_id);

-- The current value of the provenance world-state keys other than the event anchors (items and
-- transfers, sensor rules, master data …): a mirror of the chain's records, with every version kept.
CREATE TABLE provenance.chain_state (
  key text PRIMARY KEY,
  value jsonb,
  version integer NOT NULL CHECK (version > 0),
  block_number bigint NOT NULL,
  transaction_id text NOT NULL
);
CREATE TABLE provenance.chain_state_history (
  key text NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  value jsonb,
  block_number bigint NOT NULL,
  transaction_id text NOT NULL,
  PRIMARY KEY (key, version)
);
