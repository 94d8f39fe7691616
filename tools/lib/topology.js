'use strict';
// The one description of which processes make up Alliance on one machine.
// `npm start` runs the embedded variant in one process; `npm run stack` runs
// the consortium variant as separate processes. docker-compose.yml mirrors the
// consortium variant (tools/deploy.spec.ts checks they agree).

const SERVICES = ['identity', 'ledger', 'provenance', 'finance', 'audit', 'gateway'];

/** What every ledger node of a demo chain needs: the chain, its genesis file and each member's node key file. */
function ledgerEnv(chain, org, role) {
  return {
    CHAIN_ID: chain.chainId,
    LEDGER_GENESIS_FILE: chain.genesisFile,
    LEDGER_NODE_ID: `${org}-node`,
    LEDGER_ROLE: role,
    ...(role === 'member' ? { LEDGER_NODE_KEY_FILE: chain.keyFileFor(org) } : {}),
  };
}

/**
 * Embedded (`npm start`): one process, PostgreSQL-log messaging and solo
 * ordering; the gateway on `port`, the services on the next ports; the three
 * members' ledger nodes each on their own database of the embedded server,
 * sharing one solo ordering log in the main database.
 */
function embeddedTopology({ port, databaseUrl, databaseUrlFor, chain }) {
  const order = ['identity', 'ledger', 'provenance', 'finance', 'audit'];
  const urls = Object.fromEntries(order.map((s, i) => [s, `http://127.0.0.1:${port + 1 + i}`]));
  const common = { DATABASE_URL: databaseUrl, MESSAGING: 'postgres', ORG_ID: 'org1' };
  const ledgerPeer = (org, offset) => ({
    id: `ledger-${org}`,
    service: 'ledger',
    env: { ...common, ORG_ID: org, DATABASE_URL: databaseUrlFor(`alliance_${org}`), ORDERING_DATABASE_URL: databaseUrl, PORT: String(port + offset), ...ledgerEnv(chain, org, 'member') },
  });
  return [
    ...order.map((service, i) => ({
      id: service === 'ledger' ? 'ledger-org1' : service,
      service,
      env: {
        ...common,
        PORT: String(port + 1 + i),
        ...(service === 'ledger' ? { ...ledgerEnv(chain, 'org1', 'member'), ORDERING_DATABASE_URL: databaseUrl } : {}),
        ...(service === 'identity' ? identityEnv(chain, urls.ledger) : {}),
        ...(service === 'provenance' ? provenanceEnv(chain, 'org1', urls.ledger) : {}),
        ...(service === 'finance' ? financeEnv(chain, 'org1', urls.ledger) : {}),
        ...(service === 'audit' ? { ORG_ID: 'regulator', ...auditEnv(chain, 'regulator', { ledger: urls.ledger, members: { org1: urls.ledger, org2: `http://127.0.0.1:${port + 6}`, org3: `http://127.0.0.1:${port + 7}` }, ...urls }) } : {}),
        ...(['provenance', 'finance', 'audit'].includes(service) ? authEnv(urls.identity) : {}),
      },
    })),
    ledgerPeer('org2', 6),
    ledgerPeer('org3', 7),
    { id: 'gateway', service: 'gateway', env: { ...common, PORT: String(port), ...gatewayUpstreams(urls) } },
  ];
}

/**
 * The consortium on one host (`npm run stack -- up`): three members and a
 * regulator, each with its own ledger node and database; org1 (the core
 * manufacturer) runs the business services and the gateway; the regulator also
 * runs its own audit service against its own database and observer node; the
 * gateway's audit API is the regulator's.
 */
function consortiumTopology({ port, databaseUrlFor, kafkaBrokers, databasePrefix = 'alliance', chain }) {
  const p = (offset) => port + offset;
  const base = (org) => ({ DATABASE_URL: databaseUrlFor(`${databasePrefix}_${org}`), MESSAGING: 'kafka', KAFKA_BROKERS: kafkaBrokers, ORG_ID: org });
  const ledger = (org, offset, role) => ({ id: `ledger-${org}`, service: 'ledger', env: { ...base(org), PORT: String(p(offset)), ...ledgerEnv(chain, org, role) } });
  const org1 = (service, offset) => ({ id: service, service, env: { ...base('org1'), PORT: String(p(offset)) } });
  const url = (offset) => `http://127.0.0.1:${p(offset)}`;
  const readModels = { members: { org1: url(11), org2: url(12), org3: url(13) }, identity: url(1), provenance: url(3), finance: url(4) };
  return [
    ledger('org1', 11, 'member'),
    ledger('org2', 12, 'member'),
    ledger('org3', 13, 'member'),
    ledger('regulator', 14, 'observer'),
    { ...org1('identity', 1), env: { ...org1('identity', 1).env, ...identityEnv(chain, url(11)) } },
    { ...withAuth(org1('provenance', 3), url(1)), env: { ...withAuth(org1('provenance', 3), url(1)).env, ...provenanceEnv(chain, 'org1', url(11)) } },
    { ...withAuth(org1('finance', 4), url(1)), env: { ...withAuth(org1('finance', 4), url(1)).env, ...financeEnv(chain, 'org1', url(11)) } },
    { ...withAuth(org1('audit', 5), url(1)), env: { ...withAuth(org1('audit', 5), url(1)).env, ...auditEnv(chain, 'org1', { ledger: url(11), ...readModels }) } },
    // The regulator's audit: its own observer node is the trust anchor; the demo's read models are org1's.
    withAuth({ id: 'audit-regulator', service: 'audit', env: { ...base('regulator'), PORT: String(p(15)), ...auditEnv(chain, 'regulator', { ledger: url(14), ...readModels }) } }, url(1)),
    { id: 'gateway', service: 'gateway', env: { ...base('org1'), PORT: String(port), ...gatewayUpstreams({ identity: url(1), ledger: url(11), provenance: url(3), finance: url(4), audit: url(15) }) } },
  ];
}

/** The identity read model follows its organization's own ledger node. */
function identityEnv(chain, ledgerUrl) {
  return { CHAIN_ID: chain.chainId, LEDGER_URL: ledgerUrl };
}

/**
 * Provenance follows its organization's ledger node and signs captures with
 * the organization's key (in the demo, the demo key that also signs its node).
 */
function provenanceEnv(chain, org, ledgerUrl) {
  return { CHAIN_ID: chain.chainId, LEDGER_URL: ledgerUrl, PROVENANCE_SIGNING_KEY_FILE: chain.keyFileFor(org) };
}

/**
 * Finance follows its organization's ledger node and signs commands with the
 * organization's key (in the demo, the demo key that also signs its node),
 * like provenance.
 */
function financeEnv(chain, org, ledgerUrl) {
  return { CHAIN_ID: chain.chainId, LEDGER_URL: ledgerUrl, FINANCE_SIGNING_KEY_FILE: chain.keyFileFor(org) };
}

/**
 * An audit service (docs/audit.md): the ledger node it trusts (the regulator's
 * observer; in the one-process demo, org1's node), every member's node to
 * verify and compare, the read models it reads through with the caller's
 * token, and the organization's key for the access log's head and evidence.
 */
function auditEnv(chain, org, { ledger, members, identity, provenance, finance }) {
  return {
    CHAIN_ID: chain.chainId,
    AUDIT_LEDGER_URL: ledger,
    AUDIT_MEMBER_NODES: Object.entries(members).map(([o, u]) => `${o}=${u}`).join(','),
    AUDIT_IDENTITY_URL: identity,
    AUDIT_PROVENANCE_URL: provenance,
    AUDIT_FINANCE_URL: finance,
    AUDIT_SIGNING_KEY_FILE: chain.keyFileFor(org),
  };
}

/** Services that check callers verify access tokens with their organization's identity service's keys. */
function authEnv(identityUrl) {
  return { AUTH_JWKS_URL: `${identityUrl}/identity/v1/.well-known/jwks.json` };
}

function withAuth(process, identityUrl) {
  return { ...process, env: { ...process.env, ...authEnv(identityUrl) } };
}

function gatewayUpstreams(urls) {
  return { IDENTITY_URL: urls.identity, LEDGER_URL: urls.ledger, PROVENANCE_URL: urls.provenance, FINANCE_URL: urls.finance, AUDIT_URL: urls.audit };
}

const CONSORTIUM_ORGANIZATIONS = ['org1', 'org2', 'org3', 'regulator'];
const consortiumDatabases = (prefix = 'alliance') => CONSORTIUM_ORGANIZATIONS.map((org) => `${prefix}_${org}`);

module.exports = { SERVICES, embeddedTopology, consortiumTopology, consortiumDatabases, CONSORTIUM_ORGANIZATIONS };
