-- The finance read model (docs/finance.md, The finance service): every `finance/` world-state
-- record of this organization's ledger node, mirrored in chain_state and projected per asset
-- kind into typed tables for queries. Derived data only: `POST /finance/v1/read-model/rebuild`
-- empties these tables and applies the ledger's blocks again. Amounts are integer minor units
-- (numeric(38,0)); the record as the contract wrote it is kept whole in `record`.

CREATE TABLE finance.projection (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  chain_id text,
  node_id text,
  -- The last block applied; -1 before the genesis.
  last_block bigint NOT NULL DEFAULT -1,
  last_header_hash text,
  -- finance.<kind>.changed.v1 events go out for blocks after this one only: a rebuild announces nothing again.
  published_through bigint NOT NULL DEFAULT -1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO finance.projection DEFAULT VALUES;

-- Receivable certificates: roots and the children of their splits (one tree per root_id).
CREATE TABLE finance.receivables (
  receivable_id text PRIMARY KEY,
  root_id text NOT NULL,
  parent_id text,
  issuer text NOT NULL,
  debtor text NOT NULL,
  holder text NOT NULL,
  currency text NOT NULL,
  face_value numeric(38,0) NOT NULL,
  paid_amount numeric(38,0) NOT NULL,
  due_date date NOT NULL,
  credit_line_id text,
  status text NOT NULL,
  encumbrance_kind text,
  encumbrance_financing_id text,
  encumbrance_financier text,
  frozen boolean NOT NULL,
  record jsonb NOT NULL,
  created_at_block bigint,
  updated_at_block bigint NOT NULL,
  last_transaction_id text NOT NULL
);
CREATE INDEX receivables_root ON finance.receivables (root_id, receivable_id);
CREATE INDEX receivables_holder ON finance.receivables (holder, status);
CREATE INDEX receivables_debtor ON finance.receivables (debtor, status);
CREATE INDEX receivables_issuer ON finance.receivables (issuer, status);
CREATE INDEX receivables_financier ON finance.receivables (encumbrance_financier) WHERE encumbrance_financier IS NOT NULL;

-- Financings (discounting, factoring, pledge) of receivables, warehouse receipts and leases.
CREATE TABLE finance.financings (
  financing_id text PRIMARY KEY,
  asset_kind text NOT NULL,
  asset_id text NOT NULL,
  applicant text NOT NULL,
  financier text NOT NULL,
  kind text NOT NULL,
  recourse boolean,
  currency text NOT NULL,
  face_value numeric(38,0),
  principal numeric(38,0),
  rate_bps integer,
  day_count text,
  fee_minor numeric(38,0),
  discount numeric(38,0),
  interest numeric(38,0),
  disbursed_amount numeric(38,0),
  status text NOT NULL,
  record jsonb NOT NULL,
  updated_at_block bigint NOT NULL,
  last_transaction_id text NOT NULL
);
CREATE INDEX financings_asset ON finance.financings (asset_kind, asset_id);
CREATE INDEX financings_applicant ON finance.financings (applicant, status);
CREATE INDEX financings_financier ON finance.financings (financier, status);

-- Credit lines a financier granted a debtor.
CREATE TABLE finance.credit_lines (
  credit_line_id text PRIMARY KEY,
  financier text NOT NULL,
  debtor text NOT NULL,
  currency text NOT NULL,
  limit_amount numeric(38,0) NOT NULL,
  used numeric(38,0) NOT NULL,
  status text NOT NULL,
  expires_on date,
  record jsonb NOT NULL,
  updated_at_block bigint NOT NULL,
  last_transaction_id text NOT NULL
);
CREATE INDEX credit_lines_debtor ON finance.credit_lines (debtor, status);
CREATE INDEX credit_lines_financier ON finance.credit_lines (financier, status);

-- Repayments by debtors and how each was allocated over the leaves of one receivable tree.
CREATE TABLE finance.payments (
  payment_id text PRIMARY KEY,
  root_id text NOT NULL,
  debtor text NOT NULL,
  currency text NOT NULL,
  amount numeric(38,0) NOT NULL,
  at timestamptz,
  record jsonb NOT NULL,
  updated_at_block bigint NOT NULL,
  last_transaction_id text NOT NULL
);
CREATE INDEX payments_root ON finance.payments (root_id);
CREATE TABLE finance.payment_allocations (
  payment_id text NOT NULL REFERENCES finance.payments ON DELETE CASCADE,
  position integer NOT NULL,
  receivable_id text NOT NULL,
  payee text NOT NULL,
  amount numeric(38,0) NOT NULL,
  financing_id text,
  PRIMARY KEY (payment_id, position)
);
CREATE INDEX payment_allocations_receivable ON finance.payment_allocations (receivable_id);
CREATE INDEX payment_allocations_payee ON finance.payment_allocations (payee);

-- Warehouse receipts issued by warehouses for goods on hand.
CREATE TABLE finance.warehouse_receipts (
  receipt_id text PRIMARY KEY,
  warehouse text NOT NULL,
  holder text NOT NULL,
  -- The lot or SSCC (canonical GS1 Digital Link) the goods are.
  goods_item text,
  currency text NOT NULL,
  value numeric(38,0) NOT NULL,
  expires_on date,
  status text NOT NULL,
  encumbrance_kind text,
  encumbrance_financing_id text,
  encumbrance_financier text,
  frozen boolean NOT NULL,
  record jsonb NOT NULL,
  created_at_block bigint,
  updated_at_block bigint NOT NULL,
  last_transaction_id text NOT NULL
);
CREATE INDEX warehouse_receipts_holder ON finance.warehouse_receipts (holder, status);
CREATE INDEX warehouse_receipts_warehouse ON finance.warehouse_receipts (warehouse, status);
CREATE INDEX warehouse_receipts_goods ON finance.warehouse_receipts (goods_item);

-- Equipment leases (lessor the owner, lessee the custodian).
CREATE TABLE finance.leases (
  lease_id text PRIMARY KEY,
  lessor text NOT NULL,
  lessee text NOT NULL,
  -- The leased custody item and the registered device that identifies it.
  asset_item text,
  device_id text,
  currency text NOT NULL,
  overdue_since date,
  status text NOT NULL,
  encumbrance_kind text,
  encumbrance_financing_id text,
  encumbrance_financier text,
  frozen boolean NOT NULL,
  record jsonb NOT NULL,
  created_at_block bigint,
  updated_at_block bigint NOT NULL,
  last_transaction_id text NOT NULL
);
CREATE INDEX leases_lessor ON finance.leases (lessor, status);
CREATE INDEX leases_lessee ON finance.leases (lessee, status);
CREATE INDEX leases_device ON finance.leases (device_id);

-- Installments a lessee paid.
CREATE TABLE finance.lease_payments (
  payment_id text PRIMARY KEY,
  lease_id text NOT NULL,
  lessee text NOT NULL,
  currency text NOT NULL,
  amount numeric(38,0) NOT NULL,
  at timestamptz,
  record jsonb NOT NULL,
  updated_at_block bigint NOT NULL,
  last_transaction_id text NOT NULL
);
CREATE INDEX lease_payments_lease ON finance.lease_payments (lease_id);

-- Underlying documents (by type and SHA-256) and the face value of the receivables they back.
CREATE TABLE finance.documents (
  doc_type text NOT NULL,
  hash text NOT NULL,
  currency text NOT NULL,
  amount numeric(38,0) NOT NULL,
  backed numeric(38,0) NOT NULL,
  receivables text[] NOT NULL,
  record jsonb NOT NULL,
  updated_at_block bigint NOT NULL,
  last_transaction_id text NOT NULL,
  PRIMARY KEY (doc_type, hash)
);
CREATE INDEX documents_receivables ON finance.documents USING gin (receivables);
