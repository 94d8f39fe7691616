'use strict';
// `npm run bench -- provenance`: the two figures of issue 5.
//
// capture  a chain of its own — one member ledger node (Kafka ordering, as the
//          ledger bench), its identity service (sign-in) and its provenance
//          service, each its own process on one fresh database — loaded with
//          EPCIS 2.0 documents through POST /provenance/v1/epcis/capture.
//          Prints events committed per second, from the first POST to every
//          capture job `committed` (the read model applied its block: the
//          events are queryable), submit→committed latency per document, and
//          CPU per event of each process.
// trace    a multi-tier supply network of ≥ 1,000,000 events (raw lots →
//          parts → assemblies → pallets → shipments → customers' cases, with
//          transformation, aggregation and disaggregation) generated with
//          set-based SQL straight into a fresh read-model database (the
//          provenance migrations applied), its rows cross-checked against
//          indexEvent, then TraceService.trace of random EPCs of every tier,
//          depth 10, upstream and downstream: p50/p95/p99/max and nodes.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { optionsOrExit } = require('./bench-args');
const { spawn } = require('node:child_process');
const ledgerBench = require('./bench-ledger');

const { createChain, startInfrastructure, waitReady, processTicks, machineTicks, postgresPids, kafkaPid, percentile, TICK } = ledgerBench;
const root = path.resolve(__dirname, '../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (m) => process.stdout.write(`${m}\n`);

const USAGE = `usage: npm run bench -- provenance [options]
  --phases LIST        comma-separated: capture,trace (default both)
  --events N           events captured in the capture phase (default 50000)
  --doc-events N       events per EPCIS document (1..1000, default 500)
  --concurrency N      concurrent capture clients (default 4)
  --block-size N       cutting.maxTransactions of the bench chain (default 500)
  --batch-timeout MS   cutting.batchTimeoutMs (default 250)
  --network-events N   events of the generated network of the trace phase (default 1000000)
  --traces N           random EPCs traced, each upstream and downstream (default 600)
  --depth N            trace depth (default 10)
  --seed N             seed of the EPC sample (default 1)
  --keep               leave the processes and databases after the run
env: DATABASE_URL (admin URL; default postgres://postgres@127.0.0.1:5432/postgres),
     KAFKA_BROKERS (default: 127.0.0.1:9092 if a broker answers there, else deploy/kafka/kafka.sh start)`;

function parseArgs(args) {
  const opts = { phases: 'capture,trace', events: 50000, docEvents: 500, concurrency: 4, blockSize: 500, batchTimeout: 250, networkEvents: 1_000_000, traces: 600, depth: 10, seed: 1, keep: false };
  const names = { phases: 'phases', events: 'events', 'doc-events': 'docEvents', concurrency: 'concurrency', 'block-size': 'blockSize', 'batch-timeout': 'batchTimeout', 'network-events': 'networkEvents', traces: 'traces', depth: 'depth', seed: 'seed' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--keep') opts.keep = true;
    else if (a.startsWith('--') && names[a.slice(2)]) {
      const key = names[a.slice(2)];
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      if (key === 'phases') opts.phases = v;
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`${a} must be a positive integer (got "${v}")`);
        opts[key] = n;
      }
    } else throw new Error(`unknown option ${a}`);
  }
  if (opts.docEvents > 1000) throw new Error('--doc-events must be between 1 and 1000 (GS1-EPCIS-Capture-Limit of this service)');
  if (opts.depth > 50) throw new Error('--depth must be between 1 and 50');
  opts.phases = opts.phases.split(',').map((p) => p.trim());
  for (const p of opts.phases) if (!['capture', 'trace'].includes(p)) throw new Error(`unknown phase "${p}"`);
  return opts;
}

// ---- the supply network ----------------------------------------------------------
//
// Per shipment s: 200 assemblies (each a TransformationEvent of 4 parts, and an
// inspection), 800 parts made by 80 TransformationEvents of 10 parts from 2 raw
// lots each (and received in 80 ObjectEvents), 32 raw lots commissioned (each
// used by ~5 part runs, scattered over the whole network), 10 pallets of 20
// assemblies, the shipment of 10 pallets (loading, shipping to a customer with
// its purchase order, receiving), then at the customer: the shipment and its
// pallets disaggregated, the assemblies packed into 40 cases of 5 and the
// cases shipped on. 696 events per shipment.

const EVENTS_PER_SHIPMENT = 696;
const COMPANY = '4012345';

/** GS1 mod-10 check digit of a key's digits (weights 3,1,3… from the right). */
function checkDigit(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[digits.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return String((10 - (sum % 10)) % 10);
}
const gs1 = (digits) => `${digits}${checkDigit(digits)}`;
const GTIN = { raw: gs1(`0${COMPANY}00001`), part: gs1(`0${COMPANY}00002`), assembly: gs1(`0${COMPANY}00003`) };
const GLN = { mill: gs1(`${COMPANY}10001`), partPlant: gs1(`${COMPANY}10002`), assemblyPlant: gs1(`${COMPANY}10003`), warehouse: gs1(`${COMPANY}10004`) };
const DL = 'https://id.gs1.org';
const sgtin = (gtin, serial) => `${DL}/01/${gtin}/21/${serial}`;
const lgtin = (gtin, lot) => `${DL}/01/${gtin}/10/${lot}`;
const sscc = (ext, n) => `${DL}/00/${gs1(`${ext}${COMPANY}${String(n).padStart(9, '0')}`)}`;
const sgln = (gln) => `${DL}/414/${gln}`;
const party = (n) => `${DL}/417/${gs1(`${COMPANY}2${String(n).padStart(4, '0')}`)}`;
const CUSTOMERS = 50;

/** Which raw lots part run t consumes (L raw lots in all). */
const rawLotsOf = (t, L) => [(2 * t) % L, 2 * ((t * 37 + 11) % (L / 2)) + 1];

function networkSize(events) {
  const S = Math.ceil(events / EVENTS_PER_SHIPMENT);
  return { S, L: S * 32, T: S * 80, A: S * 200, Q: S * 10, Z: S * 40, events: S * EVENTS_PER_SHIPMENT };
}

/** The 696 events of shipment s of an S-shipment network, as EPCIS 2.0 JSON (no eventID: capture names them). */
function shipmentEvents(s, S) {
  const L = S * 32;
  const t0 = Date.UTC(2026, 0, 1) + s * 600_000;
  const time = (offsetMs) => new Date(t0 + offsetMs).toISOString();
  const ev = (offsetMs, fields) => ({ type: 'ObjectEvent', eventTime: time(offsetMs), eventTimeZoneOffset: '+00:00', ...fields });
  const out = [];
  for (let k = 0; k < 32; k++) {
    const r = s * 32 + k;
    out.push(ev(-86_400_000 + k, { action: 'ADD', bizStep: 'commissioning', disposition: 'active', readPoint: { id: sgln(GLN.mill) }, quantityList: [{ epcClass: lgtin(GTIN.raw, `R${r + 1}`), quantity: 1000, uom: 'KGM' }] }));
  }
  for (let k = 0; k < 80; k++) {
    const t = s * 80 + k;
    const [a, b] = rawLotsOf(t, L);
    const parts = Array.from({ length: 10 }, (_, j) => sgtin(GTIN.part, t * 10 + j + 1));
    out.push({ type: 'TransformationEvent', eventTime: time(-3_600_000 + k), eventTimeZoneOffset: '+00:00', bizStep: 'commissioning', disposition: 'active', readPoint: { id: sgln(GLN.partPlant) },
      inputQuantityList: [{ epcClass: lgtin(GTIN.raw, `R${a + 1}`), quantity: 50, uom: 'KGM' }, { epcClass: lgtin(GTIN.raw, `R${b + 1}`), quantity: 25, uom: 'KGM' }], outputEPCList: parts, ilmd: { 'cbvmda:lotNumber': `P${t + 1}` } });
    out.push(ev(-1_800_000 + k, { action: 'OBSERVE', bizStep: 'receiving', disposition: 'in_progress', readPoint: { id: sgln(GLN.assemblyPlant) }, epcList: parts }));
  }
  for (let k = 0; k < 200; k++) {
    const a = s * 200 + k;
    const q = Math.floor(a / 20);
    out.push({ type: 'TransformationEvent', eventTime: time(k * 100), eventTimeZoneOffset: '+00:00', bizStep: 'assembling', disposition: 'active', readPoint: { id: sgln(GLN.assemblyPlant) },
      inputEPCList: Array.from({ length: 4 }, (_, j) => sgtin(GTIN.part, a * 4 + j + 1)), outputEPCList: [sgtin(GTIN.assembly, a + 1)], ilmd: { 'cbvmda:lotNumber': `A${q + 1}` } });
    out.push(ev(k * 100 + 50, { action: 'OBSERVE', bizStep: 'inspecting', disposition: 'conformant', readPoint: { id: sgln(GLN.assemblyPlant) }, epcList: [sgtin(GTIN.assembly, a + 1)] }));
  }
  for (let i = 0; i < 10; i++) {
    const q = s * 10 + i;
    out.push({ type: 'AggregationEvent', eventTime: time(60_000 + i), eventTimeZoneOffset: '+00:00', action: 'ADD', bizStep: 'packing', disposition: 'in_progress', readPoint: { id: sgln(GLN.assemblyPlant) },
      parentID: sscc(1, q + 1), childEPCs: Array.from({ length: 20 }, (_, j) => sgtin(GTIN.assembly, q * 20 + j + 1)) });
  }
  const shipment = sscc(2, s + 1);
  const customer = party(s % CUSTOMERS);
  const customerSite = `${sgln(GLN.warehouse)}`;
  out.push({ type: 'AggregationEvent', eventTime: time(120_000), eventTimeZoneOffset: '+00:00', action: 'ADD', bizStep: 'loading', disposition: 'in_progress', readPoint: { id: sgln(GLN.warehouse) }, parentID: shipment, childEPCs: Array.from({ length: 10 }, (_, i) => sscc(1, s * 10 + i + 1)) });
  out.push(ev(180_000, { action: 'OBSERVE', bizStep: 'shipping', disposition: 'in_transit', readPoint: { id: sgln(GLN.warehouse) }, epcList: [shipment], bizTransactionList: [{ type: 'po', bizTransaction: `urn:epcglobal:cbv:bt:${COMPANY}000001:PO${s + 1}` }], destinationList: [{ type: 'owning_party', destination: customer }] }));
  out.push(ev(86_400_000, { action: 'OBSERVE', bizStep: 'receiving', disposition: 'in_progress', readPoint: { id: customerSite }, epcList: [shipment] }));
  out.push({ type: 'AggregationEvent', eventTime: time(86_460_000), eventTimeZoneOffset: '+00:00', action: 'DELETE', bizStep: 'unloading', disposition: 'in_progress', readPoint: { id: customerSite }, parentID: shipment, childEPCs: Array.from({ length: 10 }, (_, i) => sscc(1, s * 10 + i + 1)) });
  for (let i = 0; i < 10; i++) {
    const q = s * 10 + i;
    out.push({ type: 'AggregationEvent', eventTime: time(86_520_000 + i), eventTimeZoneOffset: '+00:00', action: 'DELETE', bizStep: 'unpacking', disposition: 'in_progress', readPoint: { id: customerSite }, parentID: sscc(1, q + 1), childEPCs: Array.from({ length: 20 }, (_, j) => sgtin(GTIN.assembly, q * 20 + j + 1)) });
  }
  for (let m = 0; m < 40; m++) {
    const z = s * 40 + m;
    const kids = Array.from({ length: 5 }, (_, j) => sgtin(GTIN.assembly, s * 200 + m * 5 + j + 1));
    out.push({ type: 'AggregationEvent', eventTime: time(90_000_000 + m), eventTimeZoneOffset: '+00:00', action: 'ADD', bizStep: 'packing', disposition: 'in_progress', readPoint: { id: customerSite }, parentID: sscc(3, z + 1), childEPCs: kids });
    out.push(ev(93_600_000 + m, { action: 'OBSERVE', bizStep: 'shipping', disposition: 'in_transit', readPoint: { id: customerSite }, epcList: [sscc(3, z + 1)], destinationList: [{ type: 'possessing_party', destination: party(CUSTOMERS + (z % 200)) }] }));
  }
  return out;
}

// ---- set-based generation of the same network in SQL -------------------------------
//
// Each tier is one INSERT … SELECT over generate_series into `bench_gen(n, org, body)`
// (the event's JSON); the read model's rows are then derived from the bodies the way
// ProvenanceReadModel.insertEvents / indexEvent derive them, one statement per table.

function generationSql(net) {
  const { S, L } = net;
  const time = (sExpr, offsetMs) => `to_char((timestamptz '2026-01-01T00:00:00Z' + (${sExpr}) * interval '10 minutes' + (${offsetMs}) * interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const sg = (gtin, serial) => `'${DL}/01/${gtin}/21/' || (${serial})`;
  const lot = (gtin, prefix, n) => `'${DL}/01/${gtin}/10/${prefix}' || (${n})`;
  const ss = (ext, n) => `'${DL}/00/' || pg_temp.gs1('${ext}${COMPANY}' || lpad((${n})::text, 9, '0'))`;
  const loc = (gln) => `jsonb_build_object('id', '${sgln(gln)}')`;
  const base = (type, sExpr, offsetMs) => `'type', '${type}', 'eventTime', ${time(sExpr, offsetMs)}, 'eventTimeZoneOffset', '+00:00'`;
  const customerSite = loc(GLN.warehouse);
  // n: the event's running number; its seq is (n / 1000) * 1024 + n % 1000 (1,000 events per capture transaction).
  const tier = (offset, count, org, body) => `INSERT INTO bench_gen (n, org, body) SELECT ${offset} + g, '${org}', jsonb_build_object('eventID', pg_temp.uuid(${offset} + g), ${body}) FROM generate_series(0, ${count - 1}) g`;
  const tiers = [];
  let offset = 0;
  const add = (label, count, org, body) => {
    tiers.push({ label, count, sql: tier(offset, count, org, body) });
    offset += count;
  };
  add('raw lots commissioned', L, 'org2', `${base('ObjectEvent', 'g / 32', '-86400000 + g % 32')}, 'action', 'ADD', 'bizStep', 'commissioning', 'disposition', 'active', 'readPoint', ${loc(GLN.mill)},
    'quantityList', jsonb_build_array(jsonb_build_object('epcClass', ${lot(GTIN.raw, 'R', 'g + 1')}, 'quantity', 1000, 'uom', 'KGM'))`);
  add('part runs (transformation)', net.T, 'org2', `${base('TransformationEvent', 'g / 80', '-3600000 + g % 80')}, 'bizStep', 'commissioning', 'disposition', 'active', 'readPoint', ${loc(GLN.partPlant)},
    'inputQuantityList', jsonb_build_array(jsonb_build_object('epcClass', ${lot(GTIN.raw, 'R', `(2 * g) % ${L} + 1`)}, 'quantity', 50, 'uom', 'KGM'), jsonb_build_object('epcClass', ${lot(GTIN.raw, 'R', `2 * ((g * 37 + 11) % ${L / 2}) + 2`)}, 'quantity', 25, 'uom', 'KGM')),
    'outputEPCList', (SELECT jsonb_agg(${sg(GTIN.part, 'g * 10 + k + 1')} ORDER BY k) FROM generate_series(0, 9) k), 'ilmd', jsonb_build_object('cbvmda:lotNumber', 'P' || (g + 1))`);
  add('parts received', net.T, 'org1', `${base('ObjectEvent', 'g / 80', '-1800000 + g % 80')}, 'action', 'OBSERVE', 'bizStep', 'receiving', 'disposition', 'in_progress', 'readPoint', ${loc(GLN.assemblyPlant)},
    'epcList', (SELECT jsonb_agg(${sg(GTIN.part, 'g * 10 + k + 1')} ORDER BY k) FROM generate_series(0, 9) k)`);
  add('assemblies (transformation)', net.A, 'org1', `${base('TransformationEvent', 'g / 200', '(g % 200) * 100')}, 'bizStep', 'assembling', 'disposition', 'active', 'readPoint', ${loc(GLN.assemblyPlant)},
    'inputEPCList', (SELECT jsonb_agg(${sg(GTIN.part, 'g * 4 + k + 1')} ORDER BY k) FROM generate_series(0, 3) k), 'outputEPCList', jsonb_build_array(${sg(GTIN.assembly, 'g + 1')}), 'ilmd', jsonb_build_object('cbvmda:lotNumber', 'A' || (g / 20 + 1))`);
  add('assemblies inspected', net.A, 'org1', `${base('ObjectEvent', 'g / 200', '(g % 200) * 100 + 50')}, 'action', 'OBSERVE', 'bizStep', 'inspecting', 'disposition', 'conformant', 'readPoint', ${loc(GLN.assemblyPlant)}, 'epcList', jsonb_build_array(${sg(GTIN.assembly, 'g + 1')})`);
  add('pallets packed (aggregation)', net.Q, 'org1', `${base('AggregationEvent', 'g / 10', '60000 + g % 10')}, 'action', 'ADD', 'bizStep', 'packing', 'disposition', 'in_progress', 'readPoint', ${loc(GLN.assemblyPlant)},
    'parentID', ${ss(1, 'g + 1')}, 'childEPCs', (SELECT jsonb_agg(${sg(GTIN.assembly, 'g * 20 + k + 1')} ORDER BY k) FROM generate_series(0, 19) k)`);
  const pallets = `(SELECT jsonb_agg(${ss(1, 'g * 10 + k + 1')} ORDER BY k) FROM generate_series(0, 9) k)`;
  add('shipments loaded (aggregation)', S, 'org1', `${base('AggregationEvent', 'g', '120000')}, 'action', 'ADD', 'bizStep', 'loading', 'disposition', 'in_progress', 'readPoint', ${loc(GLN.warehouse)}, 'parentID', ${ss(2, 'g + 1')}, 'childEPCs', ${pallets}`);
  add('shipments shipped', S, 'org1', `${base('ObjectEvent', 'g', '180000')}, 'action', 'OBSERVE', 'bizStep', 'shipping', 'disposition', 'in_transit', 'readPoint', ${loc(GLN.warehouse)}, 'epcList', jsonb_build_array(${ss(2, 'g + 1')}),
    'bizTransactionList', jsonb_build_array(jsonb_build_object('type', 'po', 'bizTransaction', 'urn:epcglobal:cbv:bt:${COMPANY}000001:PO' || (g + 1))),
    'destinationList', jsonb_build_array(jsonb_build_object('type', 'owning_party', 'destination', '${DL}/417/' || pg_temp.gs1('${COMPANY}2' || lpad((g % ${CUSTOMERS})::text, 4, '0'))))`);
  add('shipments received', S, 'org3', `${base('ObjectEvent', 'g', '86400000')}, 'action', 'OBSERVE', 'bizStep', 'receiving', 'disposition', 'in_progress', 'readPoint', ${customerSite}, 'epcList', jsonb_build_array(${ss(2, 'g + 1')})`);
  add('shipments unloaded (disaggregation)', S, 'org3', `${base('AggregationEvent', 'g', '86460000')}, 'action', 'DELETE', 'bizStep', 'unloading', 'disposition', 'in_progress', 'readPoint', ${customerSite}, 'parentID', ${ss(2, 'g + 1')}, 'childEPCs', ${pallets}`);
  add('pallets unpacked (disaggregation)', net.Q, 'org3', `${base('AggregationEvent', 'g / 10', '86520000 + g % 10')}, 'action', 'DELETE', 'bizStep', 'unpacking', 'disposition', 'in_progress', 'readPoint', ${customerSite},
    'parentID', ${ss(1, 'g + 1')}, 'childEPCs', (SELECT jsonb_agg(${sg(GTIN.assembly, 'g * 20 + k + 1')} ORDER BY k) FROM generate_series(0, 19) k)`);
  add('customer cases packed (aggregation)', net.Z, 'org3', `${base('AggregationEvent', 'g / 40', '90000000 + g % 40')}, 'action', 'ADD', 'bizStep', 'packing', 'disposition', 'in_progress', 'readPoint', ${customerSite},
    'parentID', ${ss(3, 'g + 1')}, 'childEPCs', (SELECT jsonb_agg(${sg(GTIN.assembly, '(g / 40) * 200 + (g % 40) * 5 + k + 1')} ORDER BY k) FROM generate_series(0, 4) k)`);
  add('customer cases shipped', net.Z, 'org3', `${base('ObjectEvent', 'g / 40', '93600000 + g % 40')}, 'action', 'OBSERVE', 'bizStep', 'shipping', 'disposition', 'in_transit', 'readPoint', ${customerSite}, 'epcList', jsonb_build_array(${ss(3, 'g + 1')}),
    'destinationList', jsonb_build_array(jsonb_build_object('type', 'possessing_party', 'destination', '${DL}/417/' || pg_temp.gs1('${COMPANY}2' || lpad((${CUSTOMERS} + g % 200)::text, 4, '0'))))`);
  return tiers;
}

const SETUP_SQL = `
CREATE FUNCTION pg_temp.gs1(d text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT d || ((10 - (SELECT sum(substr(d, length(d) - i, 1)::int * CASE WHEN i % 2 = 0 THEN 3 ELSE 1 END) FROM generate_series(0, length(d) - 1) i) % 10) % 10)::text $$;
CREATE FUNCTION pg_temp.uuid(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT 'urn:uuid:' || (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-8' || substr(h, 18, 3) || '-' || substr(h, 21, 12)) FROM md5('bench-event-' || n) h $$;
CREATE UNLOGGED TABLE bench_gen (n bigint PRIMARY KEY, org text NOT NULL, body jsonb NOT NULL);
`;

const SEQ = `(n / 1000) * 1024 + n % 1000`;
const TRANSFORMATION_NODE = `'urn:alliance:transformation:' || coalesce(body->>'transformationID', body->>'eventID')`;

/** The read model's rows, derived from the bodies (what insertEvents writes for what indexEvent yields). */
const DERIVE = [
  ['provenance.events', `INSERT INTO provenance.events (seq, event_id, event_hash, hash_verified, type, action, biz_step, disposition, read_point, biz_location, transformation_id,
      persistent_set, persistent_unset, event_time, event_time_zone_offset, record_time, error_declaration_time, organization_id, capture_id, block_number, transaction_id, leaf_index, origin, body, context)
    SELECT ${SEQ}, body->>'eventID', 'ni:///sha-256;' || encode(sha256(convert_to(body::text, 'UTF8')), 'hex') || '?ver=CBV2.0', true, body->>'type', body->>'action', body->>'bizStep', body->>'disposition',
      body->'readPoint'->>'id', body->'bizLocation'->>'id', body->>'transformationID', '{}', '{}', (body->>'eventTime')::timestamptz, body->>'eventTimeZoneOffset',
      timestamptz '2026-01-01T00:00:00Z' + (n / 10000) * interval '1 minute', NULL, org, 'cbench' || (n / 1000), n / 10000 + 1, encode(sha256(convert_to('bench-tx-' || (n / 1000), 'UTF8')), 'hex'), n / 1000, 'capture', body::text,
      '["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]'
    FROM bench_gen`],
  ['provenance.event_epcs', `INSERT INTO provenance.event_epcs (seq, role, epc, quantity, uom)
    SELECT ${SEQ}, 'epc', e, NULL::numeric, NULL FROM bench_gen, jsonb_array_elements_text(body->'epcList') e
    UNION ALL SELECT ${SEQ}, 'parent', body->>'parentID', NULL, NULL FROM bench_gen WHERE body ? 'parentID'
    UNION ALL SELECT ${SEQ}, 'child', e, NULL, NULL FROM bench_gen, jsonb_array_elements_text(body->'childEPCs') e
    UNION ALL SELECT ${SEQ}, 'input', e, NULL, NULL FROM bench_gen, jsonb_array_elements_text(body->'inputEPCList') e
    UNION ALL SELECT ${SEQ}, 'output', e, NULL, NULL FROM bench_gen, jsonb_array_elements_text(body->'outputEPCList') e
    UNION ALL SELECT ${SEQ}, 'quantity', q->>'epcClass', (q->>'quantity')::numeric, q->>'uom' FROM bench_gen, jsonb_array_elements(body->'quantityList') q
    UNION ALL SELECT ${SEQ}, 'input_quantity', q->>'epcClass', (q->>'quantity')::numeric, q->>'uom' FROM bench_gen, jsonb_array_elements(body->'inputQuantityList') q`],
  ['provenance.event_biz_transactions', `INSERT INTO provenance.event_biz_transactions (seq, type, biz_transaction)
    SELECT ${SEQ}, b->>'type', b->>'bizTransaction' FROM bench_gen, jsonb_array_elements(body->'bizTransactionList') b`],
  ['provenance.event_parties', `INSERT INTO provenance.event_parties (seq, kind, type, party)
    SELECT ${SEQ}, 'destination', p->>'type', p->>'destination' FROM bench_gen, jsonb_array_elements(body->'destinationList') p`],
  ['provenance.lineage', `INSERT INTO provenance.lineage (from_node, to_node, kind, seq, event_time)
    SELECT c, body->>'parentID', 'aggregation', ${SEQ}, (body->>'eventTime')::timestamptz FROM bench_gen, jsonb_array_elements_text(body->'childEPCs') c
      WHERE body->>'type' = 'AggregationEvent' AND body->>'action' <> 'DELETE'
    UNION ALL SELECT i, ${TRANSFORMATION_NODE}, 'transformation', ${SEQ}, (body->>'eventTime')::timestamptz FROM bench_gen,
      LATERAL (SELECT jsonb_array_elements_text(coalesce(body->'inputEPCList', '[]')) UNION ALL SELECT q->>'epcClass' FROM jsonb_array_elements(coalesce(body->'inputQuantityList', '[]')) q) x(i)
      WHERE body->>'type' = 'TransformationEvent'
    UNION ALL SELECT ${TRANSFORMATION_NODE}, o, 'transformation', ${SEQ}, (body->>'eventTime')::timestamptz FROM bench_gen, jsonb_array_elements_text(body->'outputEPCList') o
      WHERE body->>'type' = 'TransformationEvent'
    UNION ALL SELECT substring(o FROM '^(https://id\\.gs1\\.org/01/[0-9]{14})/21/') || '/10/' || (body->'ilmd'->>'cbvmda:lotNumber'), o, 'lot', ${SEQ}, (body->>'eventTime')::timestamptz
      FROM bench_gen, jsonb_array_elements_text(CASE WHEN body->>'type' = 'TransformationEvent' THEN body->'outputEPCList' ELSE body->'epcList' END) o
      WHERE body->'ilmd' ? 'cbvmda:lotNumber' AND (body->>'action' = 'ADD' OR body->>'type' = 'TransformationEvent') AND o ~ '^https://id\\.gs1\\.org/01/[0-9]{14}/21/'`],
];

// ---- capture phase --------------------------------------------------------------------

function spawnService(name, script, env, benchDir, state) {
  const log = fs.openSync(path.join(benchDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [path.join(root, script)], { cwd: root, stdio: ['ignore', log, log], env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env } });
  state.children.push(child);
  return child;
}

async function json(url, init = {}) {
  const r = await fetch(url, { ...init, headers: { 'content-type': 'application/json', accept: 'application/json', ...(init.headers || {}) } });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : {} };
}

/** Signs in as org1's admin the way a client does (challenge, signature in the auth-challenge domain). */
async function signIn(p, identityUrl, chain) {
  const keyId = chain.members[0].keys[0].keyId;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const c = await json(`${identityUrl}/identity/v1/auth/challenges`, { method: 'POST', body: JSON.stringify({ organizationId: 'org1', keyId }) });
    if (c.status === 201) {
      const signature = crypto.sign(null, p.signingInput(p.SignatureDomain.authChallenge, p.canonicalBytes(c.body.challenge)), chain.keys.org1.keyObject);
      const t = await json(`${identityUrl}/identity/v1/auth/tokens`, { method: 'POST', body: JSON.stringify({ challengeId: c.body.challengeId, signature: Buffer.from(signature).toString('base64url') }) });
      if (t.status !== 200) throw new Error(`sign-in refused: ${t.status} ${JSON.stringify(t.body)}`);
      return t.body.accessToken;
    }
    // The identity read model learns org1's key from the genesis block; until then the challenge is refused.
    if (Date.now() > deadline) throw new Error(`sign-in challenge refused: ${c.status} ${JSON.stringify(c.body)}`);
    await sleep(300);
  }
}

async function benchCapture(p, opts, infra, benchDir, state) {
  const { Pool } = require('pg');
  const { ensureDatabase, withDatabase } = require(path.join(root, 'dist/libs/shared/data-access-postgres/src'));
  const chain = createChain(p, benchDir, { nodes: 1, blockSize: opts.blockSize, batchTimeout: opts.batchTimeout });
  const database = 'bench_provenance_capture';
  const admin = new Pool({ connectionString: infra.adminUrl, max: 1 });
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
  await ensureDatabase(infra.adminUrl, database);
  state.databases.push(database);
  const databaseUrl = withDatabase(infra.adminUrl, database);
  const common = { DATABASE_URL: databaseUrl, MESSAGING: 'kafka', KAFKA_BROKERS: infra.brokers, ORG_ID: 'org1', CHAIN_ID: chain.chainId };
  const ledgerUrl = 'http://127.0.0.1:3820';
  const identityUrl = 'http://127.0.0.1:3821';
  const provenanceUrl = 'http://127.0.0.1:3822';
  const ledger = spawnService('ledger-org1', 'dist/apps/ledger/src/main.js', { ...common, PORT: '3820', LEDGER_GENESIS_FILE: chain.genesisFile, LEDGER_NODE_KEY_FILE: path.join(benchDir, 'org1.key.json'), LEDGER_ROLE: 'member' }, benchDir, state);
  await waitReady(ledgerUrl, ledger);
  const identity = spawnService('identity-org1', 'dist/apps/identity/src/main.js', { ...common, PORT: '3821', LEDGER_URL: ledgerUrl, IDENTITY_POLL_INTERVAL_MS: '500' }, benchDir, state);
  await waitReady(identityUrl, identity);
  const provenance = spawnService('provenance-org1', 'dist/apps/provenance/src/main.js', {
    ...common,
    PORT: '3822',
    LEDGER_URL: ledgerUrl,
    AUTH_JWKS_URL: `${identityUrl}/identity/v1/.well-known/jwks.json`,
    PROVENANCE_SIGNING_KEY_FILE: path.join(benchDir, 'org1.key.json'),
  }, benchDir, state);
  await waitReady(provenanceUrl, provenance);
  say(`services ready: ledger ${ledgerUrl}, identity ${identityUrl}, provenance ${provenanceUrl} (chain ${chain.chainId}, Kafka ${infra.brokers}, cutting ${opts.blockSize} tx / ${opts.batchTimeout} ms)`);
  let token = await signIn(p, identityUrl, chain);
  let tokenAt = Date.now();

  // The documents: consecutive shipments of the network, cut into documents of --doc-events.
  const S = Math.ceil(opts.events / EVENTS_PER_SHIPMENT);
  const events = [];
  for (let s = 0; s < S && events.length < opts.events; s++) for (const e of shipmentEvents(s, S)) if (events.length < opts.events) events.push(e);
  const documents = [];
  for (let i = 0; i < events.length; i += opts.docEvents) {
    documents.push(JSON.stringify({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList: events.slice(i, i + opts.docEvents) } }));
  }
  const bytes = documents.reduce((n, d) => n + d.length, 0);
  say(`capture: ${events.length} events in ${documents.length} documents of ≤ ${opts.docEvents} (${(bytes / documents.length / 1024).toFixed(0)} KiB each), ${opts.concurrency} clients`);

  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', (e) => say(`bench: idle PostgreSQL connection lost (${e.message}); the pool reconnects`));
  const pids = { ledger: [ledger.pid], identity: [identity.pid], provenance: [provenance.pid] };
  const t0cpu = { ledger: processTicks(pids.ledger), identity: processTicks(pids.identity), provenance: processTicks(pids.provenance), kafka: processTicks(kafkaPid()), machine: machineTicks() };
  const pgPids = postgresPids();
  const pg0 = processTicks(pgPids);
  const client0 = process.cpuUsage();
  const sentAt = new Map();
  const postMs = [];
  const t0 = performance.now();
  let next = 0;
  let progressAt = t0;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < documents.length) {
        const body = documents[next++];
        if (Date.now() - tokenAt > 40_000) {
          tokenAt = Date.now();
          token = await signIn(p, identityUrl, chain);
        }
        const t = performance.now();
        const r = await fetch(`${provenanceUrl}/provenance/v1/epcis/capture`, { method: 'POST', body, headers: { 'content-type': 'application/ld+json', authorization: `Bearer ${token}` } });
        const reply = await r.json();
        if (r.status !== 202) throw new Error(`capture refused: ${r.status} ${JSON.stringify(reply).slice(0, 400)}`);
        postMs.push(performance.now() - t);
        sentAt.set(reply.captureID, t);
        if (performance.now() - progressAt > 5000) {
          progressAt = performance.now();
          say(`  … ${sentAt.size}/${documents.length} documents accepted (${((progressAt - t0) / 1000).toFixed(0)} s)`);
        }
      }
    }),
  );
  const submitted = performance.now();
  const committedAt = new Map();
  const ids = [...sentAt.keys()];
  const deadline = Date.now() + 600_000;
  progressAt = performance.now();
  while (committedAt.size < ids.length) {
    const open = ids.filter((id) => !committedAt.has(id));
    const { rows } = await pool.query(`SELECT capture_id, status, errors FROM provenance.capture_jobs WHERE capture_id = ANY($1) AND status IN ('committed', 'failed')`, [open]);
    const now = performance.now();
    for (const r of rows) {
      if (r.status === 'failed') throw new Error(`capture ${r.capture_id} failed: ${JSON.stringify(r.errors)}`);
      committedAt.set(r.capture_id, now);
    }
    if (now - progressAt > 5000) {
      progressAt = now;
      say(`  … ${committedAt.size}/${ids.length} capture jobs committed (${((now - t0) / 1000).toFixed(0)} s)`);
    }
    if (Date.now() > deadline) throw new Error(`${ids.length - committedAt.size} capture jobs not committed in 600 s`);
    if (committedAt.size < ids.length) await sleep(20);
  }
  const done = performance.now();
  const cpu = (k, list) => (processTicks(list) - t0cpu[k]) / TICK;
  const seconds = (done - t0) / 1000;
  const r = {
    phase: 'capture',
    events: events.length,
    documents: documents.length,
    docEvents: opts.docEvents,
    seconds,
    eventsPerSecond: events.length / seconds,
    acceptSeconds: (submitted - t0) / 1000,
    post: summary(postMs),
    commit: summary(ids.map((id) => committedAt.get(id) - sentAt.get(id))),
    cpuMsPerEvent: {
      ledger: (cpu('ledger', pids.ledger) * 1000) / events.length,
      provenance: (cpu('provenance', pids.provenance) * 1000) / events.length,
      identity: (cpu('identity', pids.identity) * 1000) / events.length,
      postgres: ((processTicks(pgPids) - pg0) / TICK / events.length) * 1000,
      kafka: (cpu('kafka', kafkaPid()) * 1000) / events.length,
      generator: (((u) => (u.user + u.system) / 1e6)(process.cpuUsage(client0)) * 1000) / events.length,
      machine: ((machineTicks() - t0cpu.machine) / TICK / events.length) * 1000,
    },
  };
  // What the API says afterwards: every job committed with all its events, the events in the repository.
  const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / 20)) === 0);
  // A run longer than a token's life (60 s) signs in again before it reads the jobs back.
  token = await signIn(p, identityUrl, chain);
  for (const id of sample) {
    const job = await json(`${provenanceUrl}/provenance/v1/epcis/capture/${id}`, { headers: { authorization: `Bearer ${token}` } });
    if (job.status !== 200 || job.body.running !== false || job.body.success !== true || job.body.eventIDs.length < 1) throw new Error(`capture job ${id} as the API shows it: ${JSON.stringify(job.body).slice(0, 300)}`);
  }
  const stored = Number((await pool.query('SELECT count(*) AS n FROM provenance.events')).rows[0].n);
  await pool.end();
  if (stored !== events.length) throw new Error(`the repository holds ${stored} events, ${events.length} were captured`);
  say(
    `\n[capture] ${r.events} events in ${r.documents} documents committed in ${r.seconds.toFixed(2)} s = ${r.eventsPerSecond.toFixed(0)} events/s (accepted in ${r.acceptSeconds.toFixed(2)} s; ${stored} events in the repository)` +
      `\n  POST /capture per document: p50 ${r.post.p50.toFixed(0)} ms, p95 ${r.post.p95.toFixed(0)} ms, max ${r.post.max.toFixed(0)} ms` +
      `\n  submit→committed per document: p50 ${r.commit.p50.toFixed(0)} ms, p95 ${r.commit.p95.toFixed(0)} ms, p99 ${r.commit.p99.toFixed(0)} ms, max ${r.commit.max.toFixed(0)} ms` +
      `\n  CPU per event: provenance ${r.cpuMsPerEvent.provenance.toFixed(3)} ms, ledger node ${r.cpuMsPerEvent.ledger.toFixed(3)} ms, identity ${r.cpuMsPerEvent.identity.toFixed(3)} ms, PostgreSQL ${r.cpuMsPerEvent.postgres.toFixed(3)} ms, Kafka ${r.cpuMsPerEvent.kafka.toFixed(3)} ms, this generator ${r.cpuMsPerEvent.generator.toFixed(3)} ms; whole machine ${r.cpuMsPerEvent.machine.toFixed(3)} ms (of ${os.cpus().length} cores)`,
  );
  return r;
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1], mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1) };
}

// ---- trace phase ------------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32) for the EPC sample. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function generateNetwork(opts, infra, state) {
  const { Pool } = require('pg');
  const { ensureDatabase, withDatabase, readMigrations, runMigrations } = require(path.join(root, 'dist/libs/shared/data-access-postgres/src'));
  const database = 'bench_provenance_trace';
  const admin = new Pool({ connectionString: infra.adminUrl, max: 1 });
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
  await ensureDatabase(infra.adminUrl, database);
  state.databases.push(database);
  const databaseUrl = withDatabase(infra.adminUrl, database);
  const pool = new Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', (e) => say(`bench: idle PostgreSQL connection lost (${e.message}); the pool reconnects`));
  const migrations = readMigrations(path.join(root, 'apps/provenance/migrations'));
  await runMigrations(pool, 'provenance', migrations);
  const net = networkSize(opts.networkEvents);
  say(`trace: generating ${net.events} events (${net.S} shipments of ${EVENTS_PER_SHIPMENT}: ${net.L} raw lots, ${net.T} part runs, ${net.A} assemblies, ${net.Q} pallets, ${net.Z} customer cases) into ${database} (migrations ${migrations.map((m) => m.version).join(', ')})`);
  const t0 = performance.now();
  const client = await pool.connect();
  const step = async (label, sql) => {
    const t = performance.now();
    const r = await client.query(sql);
    say(`  ${label}: ${r.rowCount ?? ''} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  let secondaryIndexes;
  try {
    await client.query(`SET synchronous_commit = off; SET maintenance_work_mem = '1GB'; SET work_mem = '256MB'; SET max_parallel_maintenance_workers = 2`);
    await client.query(SETUP_SQL);
    for (const t of generationSql(net)) await step(t.label, t.sql);
    // The migrations' secondary indexes are built once after the load (as a bulk restore does), then analysed.
    const { rows } = await client.query(
      `SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'provenance' AND i.tablename IN ('events', 'event_epcs', 'event_biz_transactions', 'event_parties', 'lineage')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = 'provenance'::regnamespace)`,
    );
    secondaryIndexes = rows;
    for (const r of rows) await client.query(`DROP INDEX provenance."${r.indexname}"`);
    // Foreign keys to events(seq) hold by construction (every row is derived from a generated event); not checked row by row.
    await client.query(`SET session_replication_role = replica`);
    for (const [table, sql] of DERIVE) await step(table, sql);
    await client.query(`SET session_replication_role = origin`);
    for (const r of rows) await step(`index ${r.indexname}`, r.indexdef);
    await step('analyze', 'ANALYZE provenance.events, provenance.event_epcs, provenance.event_biz_transactions, provenance.event_parties, provenance.lineage');
    await client.query('DROP TABLE bench_gen');
  } finally {
    client.release();
  }
  const counts = (await pool.query(`SELECT (SELECT count(*) FROM provenance.events) AS events, (SELECT count(*) FROM provenance.lineage) AS lineage, (SELECT count(*) FROM provenance.event_epcs) AS epcs, pg_size_pretty(pg_database_size(current_database())) AS size`)).rows[0];
  const generation = { seconds: (performance.now() - t0) / 1000, events: Number(counts.events), lineage: Number(counts.lineage), epcs: Number(counts.epcs), size: counts.size, indexes: secondaryIndexes.map((r) => r.indexname) };
  say(`  generated in ${generation.seconds.toFixed(0)} s: ${generation.events} events, ${generation.lineage} lineage edges, ${generation.epcs} identifiers by role; database ${generation.size}`);
  await crossCheck(pool, generation.events);
  return { pool, net, generation, databaseUrl };
}

/** Sampled events re-indexed with indexEvent must give exactly the rows generated for them. */
async function crossCheck(pool, total) {
  const { indexEvent } = require(path.join(root, 'dist/libs/provenance/domain/src'));
  const random = rng(7);
  const wanted = Array.from({ length: 300 }, () => Math.floor(random() * total)).map((n) => Math.floor(n / 1000) * 1024 + (n % 1000));
  const { rows } = await pool.query(
    `SELECT seq, event_id, type, action, biz_step, disposition, read_point, biz_location, transformation_id, event_time, event_time_zone_offset, body FROM provenance.events WHERE seq = ANY($1::bigint[]) ORDER BY seq`,
    [wanted],
  );
  const seqs = rows.map((r) => r.seq);
  const group = async (sql) => {
    const m = new Map();
    for (const r of (await pool.query(sql, [seqs])).rows) m.set(r.seq, [...(m.get(r.seq) || []), r.k]);
    return m;
  };
  const epcs = await group(`SELECT seq, concat_ws('|', role, epc, quantity::text, uom) AS k FROM provenance.event_epcs WHERE seq = ANY($1::bigint[])`);
  const lineage = await group(`SELECT seq, concat_ws('|', from_node, to_node, kind, to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS k FROM provenance.lineage WHERE seq = ANY($1::bigint[])`);
  const parties = await group(`SELECT seq, concat_ws('|', kind, type, party) AS k FROM provenance.event_parties WHERE seq = ANY($1::bigint[])`);
  const biz = await group(`SELECT seq, concat_ws('|', type, biz_transaction) AS k FROM provenance.event_biz_transactions WHERE seq = ANY($1::bigint[])`);
  const same = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
  const types = new Set();
  for (const r of rows) {
    const event = JSON.parse(r.body);
    const x = indexEvent(event);
    types.add(`${x.type}/${x.action}`);
    const problems = [];
    const columns = { event_id: event.eventID, type: x.type, action: x.action, biz_step: x.bizStep, disposition: x.disposition, read_point: x.readPoint, biz_location: x.bizLocation, transformation_id: x.transformationId, event_time_zone_offset: x.eventTimeZoneOffset };
    for (const [k, v] of Object.entries(columns)) if (r[k] !== v) problems.push(`${k}: row ${r[k]}, indexEvent ${v}`);
    if (r.event_time.toISOString() !== x.eventTime) problems.push(`event_time: row ${r.event_time.toISOString()}, indexEvent ${x.eventTime}`);
    if (!same(epcs.get(r.seq) || [], x.epcs.map((e) => [e.role, e.epc, e.quantity, e.uom].filter((v) => v !== undefined && v !== null).join('|')))) problems.push(`epcs: rows ${JSON.stringify(epcs.get(r.seq))}, indexEvent ${JSON.stringify(x.epcs)}`);
    if (!same(lineage.get(r.seq) || [], x.lineage.map((e) => [e.from, e.to, e.kind, x.eventTime].join('|')))) problems.push(`lineage: rows ${JSON.stringify(lineage.get(r.seq))}, indexEvent ${JSON.stringify(x.lineage)}`);
    if (!same(parties.get(r.seq) || [], x.parties.map((p) => [p.kind, p.type, p.party].join('|')))) problems.push(`parties: rows ${JSON.stringify(parties.get(r.seq))}, indexEvent ${JSON.stringify(x.parties)}`);
    if (!same(biz.get(r.seq) || [], x.bizTransactions.map((b) => [b.type, b.bizTransaction].filter((v) => v !== null).join('|')))) problems.push(`bizTransactions: rows ${JSON.stringify(biz.get(r.seq))}, indexEvent ${JSON.stringify(x.bizTransactions)}`);
    if (problems.length) throw new Error(`generated event ${r.event_id} (seq ${r.seq}) is not what the read model would write:\n  ${problems.join('\n  ')}`);
  }
  say(`  cross-check: ${rows.length} sampled events (${[...types].sort().join(', ')}) re-indexed with indexEvent give exactly their generated rows`);
}

async function benchTrace(opts, infra, state) {
  const { pool, net, generation } = await generateNetwork(opts, infra, state);
  const { TraceService } = require(path.join(root, 'dist/apps/provenance/src/trace'));
  const trace = new TraceService(pool);
  const random = rng(opts.seed);
  const pick = (n) => Math.floor(random() * n);
  const tiers = {
    'raw lot': () => lgtin(GTIN.raw, `R${pick(net.L) + 1}`),
    part: () => sgtin(GTIN.part, pick(net.T * 10) + 1),
    assembly: () => sgtin(GTIN.assembly, pick(net.A) + 1),
    pallet: () => sscc(1, pick(net.Q) + 1),
    shipment: () => sscc(2, pick(net.S) + 1),
    'customer case': () => sscc(3, pick(net.Z) + 1),
  };
  const names = Object.keys(tiers);
  const sample = Array.from({ length: opts.traces }, (_, i) => ({ tier: names[i % names.length], epc: tiers[names[i % names.length]]() }));
  // Warm-up: the first traces pay for connections and cold pages.
  for (const s of sample.slice(0, 30)) for (const direction of ['upstream', 'downstream']) await trace.trace(s.epc, { direction, depth: opts.depth });
  const results = { upstream: [], downstream: [] };
  const t0 = performance.now();
  let progressAt = t0;
  for (const [i, s] of sample.entries()) {
    for (const direction of ['upstream', 'downstream']) {
      const t = performance.now();
      const r = await trace.trace(s.epc, { direction, depth: opts.depth });
      results[direction].push({ tier: s.tier, ms: performance.now() - t, nodes: r.nodes.length, edges: r.edges.length, events: r.events.length, maxDepth: Math.max(...r.nodes.map((n) => Math.abs(n.depth))), truncated: r.truncated });
    }
    if (performance.now() - progressAt > 5000) {
      progressAt = performance.now();
      say(`  … ${i + 1}/${sample.length} EPCs traced both ways`);
    }
  }
  const out = { generation, network: net, depth: opts.depth, traces: opts.traces, directions: {} };
  say(`\n[trace] ${opts.traces} random EPCs (${names.join(', ')} in turn), depth ${opts.depth}, on ${generation.events} events / ${generation.lineage} lineage edges; TraceService.trace, one after another`);
  say('\n| direction | tier | traces | p50 ms | p95 ms | p99 ms | max ms | nodes mean | nodes max | edges mean | events mean | deepest hop |');
  say('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const direction of ['upstream', 'downstream']) {
    const rows = results[direction];
    const line = (tier, list) => {
      const ms = summary(list.map((x) => x.ms));
      const nodes = summary(list.map((x) => x.nodes));
      say(`| ${direction} | ${tier} | ${list.length} | ${ms.p50.toFixed(1)} | ${ms.p95.toFixed(1)} | ${ms.p99.toFixed(1)} | ${ms.max.toFixed(1)} | ${nodes.mean.toFixed(0)} | ${nodes.max} | ${summary(list.map((x) => x.edges)).mean.toFixed(0)} | ${summary(list.map((x) => x.events)).mean.toFixed(0)} | ${Math.max(...list.map((x) => x.maxDepth))} |`);
      return { ms, nodes };
    };
    out.directions[direction] = { all: line('**all**', rows), tiers: Object.fromEntries(names.map((n) => [n, line(n, rows.filter((x) => x.tier === n))])), truncated: rows.filter((x) => x.truncated).length };
  }
  await pool.end();
  return out;
}

// ---- main ----------------------------------------------------------------------------------

async function benchProvenance(args) {
  if (args.includes('--help')) {
    say(USAGE);
    return;
  }
  const opts = optionsOrExit(parseArgs, args, USAGE);
  const { build } = require('../build');
  build();
  const p = require(path.join(root, 'dist/libs/protocol/src'));
  const state = { children: [], databases: [] };
  const benchDir = path.join(root, '.alliance', 'bench', `provenance-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  fs.mkdirSync(benchDir, { recursive: true });
  const infra = await startInfrastructure(state);
  const cpus = os.cpus();
  say(`bench provenance: phases ${opts.phases.join(', ')}`);
  say(`machine: ${cpus.length} × ${cpus[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  const cleanup = async () => {
    if (opts.keep) {
      say(`bench: --keep: processes left running (pids ${state.children.map((c) => c.pid).join(' ')}), databases ${state.databases.join(', ')}, logs in ${benchDir}`);
      return;
    }
    for (const c of state.children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(state.children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    const { Pool } = require('pg');
    const admin = new Pool({ connectionString: infra.adminUrl, max: 1 });
    for (const d of state.databases) await admin.query(`DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    if (state.startedKafka) require('node:child_process').spawnSync('bash', [path.join(root, 'deploy/kafka/kafka.sh'), 'stop'], { stdio: 'inherit' });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  const results = {};
  try {
    if (opts.phases.includes('capture')) {
      results.capture = await benchCapture(p, opts, infra, benchDir, state);
      // The capture consortium is stopped before the trace phase measures anything.
      for (const c of state.children) if (c.exitCode === null) c.kill('SIGTERM');
      await Promise.all(state.children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    }
    if (opts.phases.includes('trace')) results.trace = await benchTrace(opts, infra, state);
    fs.writeFileSync(path.join(benchDir, 'results.json'), `${JSON.stringify({ opts, machine: { cpus: cpus.length, model: cpus[0].model, memGiB: os.totalmem() / 2 ** 30 }, results }, null, 2)}\n`);
    say(`\nresults: ${path.relative(root, path.join(benchDir, 'results.json'))}`);
  } finally {
    await cleanup();
  }
}

module.exports = { benchProvenance, shipmentEvents, networkSize };
