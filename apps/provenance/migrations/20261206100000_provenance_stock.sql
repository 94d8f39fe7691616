-- Stock on hand per item and organization (docs/provenance.md, Stock on hand): derived from the
-- EPCIS events naming the item, kept in step in the transaction applying each block. Derived data:
-- a rebuild truncates and recomputes it. `uom` is '' for an instance key (a count of 1 or 0).
CREATE TABLE provenance.stock (
  item text COLLATE "C" NOT NULL,
  organization_id text NOT NULL,
  uom text NOT NULL,
  on_hand numeric NOT NULL CHECK (on_hand >= 0),
  -- The last event that changed the level, and its block.
  event_id text NOT NULL,
  block_number bigint NOT NULL,
  PRIMARY KEY (item, organization_id, uom)
);
CREATE INDEX stock_organization ON provenance.stock (organization_id, item);
