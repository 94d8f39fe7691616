-- Trace walks read (from_node | to_node) → the other end, kind, seq and event_time of each edge:
-- with event_time in the index too, a level is an index-only scan (no heap visit per edge).
CREATE INDEX lineage_from_walk ON provenance.lineage (from_node) INCLUDE (to_node, kind, seq, event_time);
CREATE INDEX lineage_to_walk ON provenance.lineage (to_node) INCLUDE (from_node, kind, seq, event_time);
DROP INDEX provenance.lineage_from;
DROP INDEX provenance.lineage_to;
