-- What this organization's provenance read model said about goods (docs/finance.md, Holds from
-- provenance): sensor alarms (`sensor-alarm`, reference = alertId, one row each) and stock levels
-- (`stock`, reference = the unit, '' for an instance key; the latest level per item, organization
-- and unit). Kept from provenance.alert.raised.v1 and provenance.stock.changed.v1; not derived from
-- the finance records, so a read-model rebuild keeps them.
CREATE TABLE finance.goods_signals (
  kind text NOT NULL CHECK (kind IN ('sensor-alarm', 'stock')),
  item text COLLATE "C" NOT NULL,
  organization_id text NOT NULL,
  reference text NOT NULL,
  uom text,
  on_hand numeric,
  block_number bigint NOT NULL,
  detail jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, item, organization_id, reference)
);
CREATE INDEX goods_signals_item ON finance.goods_signals (item);
