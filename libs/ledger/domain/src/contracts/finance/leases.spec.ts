import { describe, expect, it } from 'vitest';
import { apply, approve, BANK, freeze, GoodsChain, LESSEE, LESSOR, OTHER, releaseFinancing, tx, unfreeze } from '../../../test/goods-finance-chain';
import type { Device } from '../devices';
import type { Financing } from './financing';
import { deviceIdentifies, type Lease, leaseAsset, leaseAssetKeyOf, leaseDocumentHashOf, LEASE_MANAGE_PERMISSION, type LeasePayment } from './leases';
import type { Payment, Receivable, UnderlyingDocument } from './receivables';

const ITEM = 'https://id.gs1.org/8004/0614141EXC-0042';
const DEVICE = 'urn:epc:id:giai:0614141.EXC-0042';
const SGTIN = 'https://id.gs1.org/01/09521234543213/21/A%2FB';
const SGTIN_URN = 'urn:epc:id:sgtin:9521234.054321.A%2FB';
const TELEMATICS = 'did:web:telematics.example.com:unit-9';
const SCHEDULE = [
  { dueDate: '2027-02-01', amount: '100000' },
  { dueDate: '2027-03-01', amount: '100000' },
  { dueDate: '2027-04-01', amount: '100000' },
];
const L = 'lease-00000001';

const propose = (leaseId = L, extra: Record<string, unknown> = {}, org = LESSOR) =>
  tx(org, 'finance.lease.propose', { leaseId, lessee: LESSEE, asset: { item: ITEM, deviceId: DEVICE }, currency: 'EUR', schedule: SCHEDULE, ...extra });
const op = (org: string, verb: string, payload: Record<string, unknown>) => tx(org, `finance.lease.${verb}`, payload);
const accept = (leaseId = L, org = LESSEE) => op(org, 'accept', { leaseId });
const pay = (paymentId: string, amount: string, leaseId = L, org = LESSEE) => op(org, 'pay', { leaseId, paymentId, amount });
const markOverdue = (leaseId = L, org = LESSOR) => op(org, 'mark-overdue', { leaseId });
const repossess = (leaseId = L, org = LESSOR) => op(org, 'repossess', { leaseId, reason: 'two installments unpaid' });
const refinance = (receivableId: string, leaseId = L, org = LESSOR) => op(org, 'refinance', { leaseId, receivableId });
const complete = (leaseId = L, org = LESSOR) => op(org, 'complete', { leaseId });

/** The lessor registered ITEM and its device (the asset itself, a GIAI) and proposed lease L (3 × 1,000.00 EUR). */
function proposed(): GoodsChain {
  const chain = new GoodsChain();
  chain.registerAndHand(LESSOR, ITEM);
  chain.device(LESSOR, DEVICE);
  chain.ok(propose());
  return chain;
}

/** `proposed()`, the asset handed to the lessee and the lease accepted. */
function active(): GoodsChain {
  const chain = proposed();
  chain.transfer(LESSOR, ITEM, LESSEE);
  chain.ok(accept());
  return chain;
}

const lease = (chain: GoodsChain, id = L) => chain.get<Lease>(`finance/lease/${id}`) as Lease;
const paid = (chain: GoodsChain) => lease(chain).schedule.map((i) => i.paidAmount);

describe('finance.lease.propose', () => {
  it('proposes a lease of an asset the lessor owns, identified by a registered device', () => {
    const chain = proposed();
    expect(lease(chain)).toMatchObject({
      leaseId: L,
      lessor: LESSOR,
      lessee: LESSEE,
      asset: { item: ITEM, deviceId: DEVICE, deviceOrganization: LESSOR },
      currency: 'EUR',
      schedule: SCHEDULE.map((i) => ({ ...i, paidAmount: '0' })),
      status: 'proposed',
      overdueSince: null,
      refinancing: null,
      acceptedAtBlock: null,
      closedAtBlock: null,
      reason: null,
      frozen: null,
      encumbrance: null,
      createdAtBlock: chain.block,
      updatedAtBlock: chain.block,
    } satisfies Omit<Lease, 'lastTransactionId'>);
    expect(chain.get(leaseAssetKeyOf(ITEM))).toEqual({ item: ITEM, leaseId: L });
  });

  it('accepts a device bound to the asset (an SGTIN) by the lessee, the device named by its Digital Link, and an asset already with the lessee', () => {
    const chain = new GoodsChain();
    chain.registerAndHand(LESSOR, SGTIN, LESSEE);
    chain.device(LESSEE, TELEMATICS, [SGTIN_URN]);
    expect(chain.code(propose(L, { asset: { item: SGTIN, deviceId: TELEMATICS } }))).toBe('VALID');
    expect(lease(chain).asset).toEqual({ item: SGTIN, deviceId: TELEMATICS, deviceOrganization: LESSEE });
    chain.registerAndHand(LESSOR, ITEM);
    chain.device(LESSOR, DEVICE);
    expect(chain.code(propose('lease-00000002', { asset: { item: ITEM, deviceId: 'https://id.gs1.org/8004/0614141EXC-0042' } }))).toBe('VALID');
    expect(lease(chain, 'lease-00000002').asset.deviceId).toBe(DEVICE);
  });

  it('refuses an asset the lessor does not own, held by a third party, or already in an open lease', () => {
    const chain = new GoodsChain();
    chain.device(LESSOR, DEVICE);
    expect(chain.run(propose())[0]).toMatchObject({ code: 'FINANCE.NOT_ASSET_OWNER', detail: `${ITEM} is not a registered custody item` });
    chain.registerAndHand(OTHER, ITEM);
    expect(chain.run(propose())[0]).toMatchObject({ code: 'FINANCE.NOT_ASSET_OWNER', detail: `${ITEM} is owned by ${OTHER}; only its owner leases it` });
    chain.transfer(OTHER, ITEM, LESSOR, 'ownership'); // owned by the lessor, still held by other
    expect(chain.run(propose())[0]).toMatchObject({ code: 'FINANCE.GOODS_NOT_IN_CUSTODY', detail: `${ITEM} is in the custody of ${OTHER}, neither the lessor nor the lessee` });
    chain.transfer(OTHER, ITEM, LESSOR);
    expect(chain.code(propose())).toBe('VALID');
    expect(chain.run(propose('lease-00000002'))[0]).toMatchObject({ code: 'FINANCE.ASSET_LEASED', detail: `${ITEM} is in lease ${L}` });
    expect(chain.code(propose())).toBe('FINANCE.DUPLICATE_ID');
  });

  it('refuses a device that is unregistered, retired, someone else’s, or neither the asset nor bound to it', () => {
    const chain = new GoodsChain();
    chain.registerAndHand(LESSOR, ITEM);
    const withDevice = (deviceId: string) => propose(L, { asset: { item: ITEM, deviceId } });
    expect(chain.run(withDevice('did:web:nobody.example.com'))[0]).toMatchObject({ code: 'FINANCE.UNKNOWN_DEVICE', detail: 'device did:web:nobody.example.com is not registered' });
    chain.device(OTHER, TELEMATICS, ['urn:epc:id:giai:0614141.EXC-0042']);
    expect(chain.run(withDevice(TELEMATICS))[0]).toMatchObject({ code: 'FINANCE.UNKNOWN_DEVICE', detail: `device ${TELEMATICS} belongs to ${OTHER}, neither the lessor nor the lessee` });
    chain.device(LESSOR, 'did:web:old.example.com', ['urn:epc:id:giai:0614141.EXC-0042']);
    chain.ok(tx(LESSOR, 'identity.device.retire', { deviceId: 'did:web:old.example.com' }));
    expect(chain.run(withDevice('did:web:old.example.com'))[0]).toMatchObject({ code: 'FINANCE.UNKNOWN_DEVICE', detail: 'device did:web:old.example.com is retired' });
    chain.device(LESSOR, 'urn:epc:id:giai:0614141.EXC-0099');
    expect(chain.run(withDevice('urn:epc:id:giai:0614141.EXC-0099'))[0]).toMatchObject({ code: 'FINANCE.DEVICE_NOT_BOUND', detail: expect.stringContaining('is not bound to it') });
    chain.ok(tx(LESSOR, 'identity.device.bind', { deviceId: 'urn:epc:id:giai:0614141.EXC-0099', assets: ['urn:epc:id:giai:0614141.EXC-0042'] }));
    expect(chain.code(withDevice('urn:epc:id:giai:0614141.EXC-0099'))).toBe('VALID');
  });

  it('refuses malformed payloads', () => {
    const chain = new GoodsChain();
    chain.registerAndHand(LESSOR, ITEM);
    chain.device(LESSOR, DEVICE);
    const bad: Record<string, unknown>[] = [
      { leaseId: 'x' },
      { lessee: LESSOR },
      { lessee: 'nobody' },
      { asset: { item: 'https://id.gs1.org/01/09521234543213/10/LOT-7', deviceId: DEVICE } }, // a lot is not one asset
      { asset: { item: 'https://id.gs1.org/00/095212345678901234', deviceId: DEVICE } },
      { asset: { item: ITEM } },
      { asset: { item: ITEM, deviceId: DEVICE, serial: 1 } },
      { currency: 'EURO' },
      { schedule: [] },
      { schedule: [{ dueDate: chain.today, amount: '100000' }] }, // the first installment falls due after today
      { schedule: [SCHEDULE[1], SCHEDULE[0]] },
      { schedule: [SCHEDULE[0], SCHEDULE[0]] },
      { schedule: [{ dueDate: '2027-02-01', amount: '0' }] },
      { schedule: [{ dueDate: '2027-02-01', amount: 100000 }] },
      { schedule: [{ dueDate: '2027-02-01', amount: '1', note: 'x' }] },
      { schedule: Array.from({ length: 361 }, (_, i) => ({ dueDate: new Date(Date.UTC(2027, 1, 1 + i)).toISOString().slice(0, 10), amount: '1' })) },
      { deposit: '100' },
    ];
    for (const extra of bad) expect(chain.code(propose(L, extra)), JSON.stringify(extra).slice(0, 120)).toBe('FINANCE.INVALID');
    expect(lease(chain)).toBeUndefined();
  });

  it('is for an admin key or an agent with finance.lease.manage', () => {
    const chain = new GoodsChain();
    chain.registerAndHand(LESSOR, ITEM);
    chain.device(LESSOR, DEVICE);
    const clerk = chain.agent(LESSOR, 'clerk', ['finance.receivable.manage']);
    const officer = chain.agent(LESSOR, 'officer', [LEASE_MANAGE_PERMISSION]);
    expect(chain.code({ ...propose(), key: clerk })).toBe('IDENTITY.NOT_ALLOWED');
    expect(chain.code({ ...propose(), key: officer })).toBe('VALID');
  });
});

describe('finance.lease.accept and cancel', () => {
  it('the lessee accepts once it holds the asset — its custody transfer and the acceptance may share a block', () => {
    const chain = proposed();
    expect(chain.run(accept())[0]).toMatchObject({ code: 'FINANCE.GOODS_NOT_IN_CUSTODY', detail: `${ITEM} is in the custody of ${LESSOR}; the lessee ${LESSEE} takes custody before it accepts` });
    chain.ok(tx(LESSOR, 'provenance.transfer.propose', { transferId: 'handover-0001', item: ITEM, kind: 'custody', to: LESSEE }));
    expect(chain.run(accept(L, LESSOR), tx(LESSEE, 'provenance.transfer.answer', { transferId: 'handover-0001', decision: 'accept' }), accept()).map((r) => r.code)).toEqual([
      'FINANCE.NOT_LESSEE',
      'VALID',
      'VALID',
    ]);
    expect(lease(chain)).toMatchObject({ status: 'active', acceptedAtBlock: chain.block });
    expect(chain.code(accept())).toBe('FINANCE.INVALID_STATE');
    expect(chain.code(accept('lease-00000099'))).toBe('FINANCE.UNKNOWN_LEASE');
  });

  it('refuses when the lessor no longer owns the asset, when an installment fell due before today, and while frozen', () => {
    const sold = proposed();
    sold.transfer(LESSOR, ITEM, LESSEE);
    sold.transfer(LESSOR, ITEM, OTHER, 'ownership');
    expect(sold.run(accept())[0]).toMatchObject({ code: 'FINANCE.NOT_ASSET_OWNER', detail: `${ITEM} is no longer owned by the lessor ${LESSOR}` });
    const late = proposed();
    late.transfer(LESSOR, ITEM, LESSEE);
    late.advanceDays(29); // 2027-02-02
    expect(late.run(accept())[0]).toMatchObject({ code: 'FINANCE.PROPOSAL_EXPIRED', detail: `the first installment of lease ${L} was due on 2027-02-01; the lessor proposes anew` });
    const onTime = proposed();
    onTime.transfer(LESSOR, ITEM, LESSEE);
    onTime.advanceDays(28); // the due date itself
    expect(onTime.code(accept())).toBe('VALID');
    const frozen = proposed();
    frozen.transfer(LESSOR, ITEM, LESSEE);
    frozen.ok(freeze('lease', L));
    expect(frozen.code(accept())).toBe('FINANCE.FROZEN');
    expect(frozen.code(op(LESSEE, 'cancel', { leaseId: L }))).toBe('FINANCE.FROZEN');
  });

  it('either party cancels a proposal; the asset may be leased again', () => {
    const chain = proposed();
    expect(chain.code(op(OTHER, 'cancel', { leaseId: L }))).toBe('FINANCE.NOT_PARTY');
    expect(chain.code(op(LESSEE, 'cancel', { leaseId: L, reason: 'terms declined' }))).toBe('VALID');
    expect(lease(chain)).toMatchObject({ status: 'cancelled', reason: 'terms declined', closedAtBlock: chain.block });
    expect(chain.get(leaseAssetKeyOf(ITEM))).toBeUndefined();
    expect(chain.code(op(LESSOR, 'cancel', { leaseId: L }))).toBe('FINANCE.INVALID_STATE');
    expect(chain.code(propose('lease-00000002'))).toBe('VALID');
    const accepted = active();
    expect(accepted.code(op(LESSOR, 'cancel', { leaseId: L }))).toBe('FINANCE.INVALID_STATE');
  });
});

describe('finance.lease.pay', () => {
  it('fills the installments in due order exactly and completes the lease on the last one', () => {
    const chain = active();
    expect(chain.code(pay('pay-00000001', '150000'))).toBe('VALID');
    expect(paid(chain)).toEqual(['100000', '50000', '0']);
    expect(chain.get<LeasePayment>('finance/lease-payment/pay-00000001')).toEqual({
      paymentId: 'pay-00000001',
      leaseId: L,
      lessee: LESSEE,
      currency: 'EUR',
      amount: '150000',
      allocations: [
        { dueDate: '2027-02-01', amount: '100000' },
        { dueDate: '2027-03-01', amount: '50000' },
      ],
      atBlock: chain.block,
      at: `${chain.today}T08:00:${String(chain.block).padStart(2, '0')}.000Z`,
    } satisfies LeasePayment);
    expect(chain.run(pay('pay-00000002', '150001'))[0]).toMatchObject({ code: 'FINANCE.OVERPAYMENT', detail: `payment 150001 exceeds the 150000 outstanding on lease ${L}` });
    expect(chain.code(pay('pay-00000001', '1'))).toBe('FINANCE.DUPLICATE_ID');
    expect(chain.code(pay('pay-00000002', '1', L, LESSOR))).toBe('FINANCE.NOT_LESSEE');
    expect(chain.code(pay('pay-00000002', '0'))).toBe('FINANCE.INVALID');
    expect(chain.code(pay('pay-00000002', '150000'))).toBe('VALID');
    expect(lease(chain)).toMatchObject({ status: 'completed', closedAtBlock: chain.block, overdueSince: null });
    expect(paid(chain)).toEqual(['100000', '100000', '100000']);
    expect(chain.get(leaseAssetKeyOf(ITEM))).toBeUndefined();
    expect(chain.code(pay('pay-00000003', '1'))).toBe('FINANCE.INVALID_STATE');
  });

  it('is refused on a proposal and while frozen', () => {
    const chain = proposed();
    expect(chain.code(pay('pay-00000001', '100000'))).toBe('FINANCE.INVALID_STATE');
    const frozen = active();
    frozen.ok(freeze('lease', L));
    expect(frozen.code(pay('pay-00000001', '100000'))).toBe('FINANCE.FROZEN');
    frozen.ok(unfreeze('lease', L));
    expect(frozen.code(pay('pay-00000001', '100000'))).toBe('VALID');
  });
});

describe('overdue and repossession', () => {
  it('an installment unpaid after its due date makes the lease overdue; paying what is past due makes it active again', () => {
    const chain = active();
    chain.advanceDays(28); // 2027-02-01, the due date: not yet overdue
    expect(chain.run(markOverdue())[0]).toMatchObject({ code: 'FINANCE.NOT_OVERDUE', detail: `no installment of lease ${L} due before 2027-02-01 is unpaid` });
    chain.advanceDays(1);
    expect(chain.code(markOverdue(L, LESSEE))).toBe('FINANCE.NOT_LESSOR');
    expect(chain.code(markOverdue())).toBe('VALID');
    expect(lease(chain)).toMatchObject({ status: 'overdue', overdueSince: '2027-02-01' });
    expect(chain.code(markOverdue())).toBe('FINANCE.INVALID_STATE');
    chain.advanceDays(28); // 2027-03-02: the second installment is past due as well
    chain.ok(pay('pay-00000001', '100000'));
    expect(lease(chain)).toMatchObject({ status: 'overdue', overdueSince: '2027-03-01' });
    chain.ok(pay('pay-00000002', '100000'));
    expect(lease(chain)).toMatchObject({ status: 'active', overdueSince: null });
  });

  it('the lessor repossesses from 30 days after the earliest unpaid due date, not before', () => {
    const chain = active();
    chain.advanceDays(29); // 2027-02-02
    chain.ok(markOverdue());
    expect(chain.code(repossess())).toBe('FINANCE.GRACE_PERIOD');
    chain.advanceDays(28); // 2027-03-02: 29 days
    expect(chain.run(repossess())[0]).toMatchObject({ code: 'FINANCE.GRACE_PERIOD', detail: `lease ${L} is overdue since 2027-02-01; the lessor repossesses from 2027-03-03` });
    chain.advanceDays(1);
    expect(chain.code(repossess(L, LESSEE))).toBe('FINANCE.NOT_LESSOR');
    expect(chain.code(repossess())).toBe('VALID');
    expect(lease(chain)).toMatchObject({ status: 'repossessed', reason: 'two installments unpaid', closedAtBlock: chain.block });
    expect(chain.get(leaseAssetKeyOf(ITEM))).toBeUndefined();
    expect(chain.code(repossess())).toBe('FINANCE.INVALID_STATE');
    expect(chain.code(pay('pay-00000001', '1'))).toBe('FINANCE.INVALID_STATE');
  });

  it('an active lease is not repossessed, nor a frozen or encumbered one', () => {
    const chain = active();
    chain.ok(apply(LESSOR, 'fin-00000001', 'lease', L));
    chain.ok(approve('fin-00000001'));
    chain.advanceDays(60); // 2027-03-05
    expect(chain.code(repossess())).toBe('FINANCE.INVALID_STATE');
    chain.ok(markOverdue()); // a pledged lease still goes overdue
    expect(chain.run(repossess())[0]).toMatchObject({ code: 'FINANCE.ENCUMBERED', detail: `lease ${L} is encumbered by pledge fin-00000001 of ${BANK}` });
    chain.ok(releaseFinancing('fin-00000001'));
    chain.ok(freeze('lease', L));
    expect(chain.code(repossess())).toBe('FINANCE.FROZEN');
    chain.ok(unfreeze('lease', L));
    expect(chain.code(repossess())).toBe('VALID');
  });

  it('mark-overdue is refused while frozen', () => {
    const chain = active();
    chain.advanceDays(40);
    chain.ok(freeze('lease', L));
    expect(chain.code(markOverdue())).toBe('FINANCE.FROZEN');
  });
});

describe('finance.lease.refinance and complete', () => {
  it('turns the rent outstanding into a confirmed receivable on the lessee and locks the lease', () => {
    const chain = active();
    chain.ok(pay('pay-00000001', '100000'));
    expect(chain.code(refinance('recv-00000001'))).toBe('VALID');
    const block = chain.block;
    const hash = leaseDocumentHashOf(lease(chain));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(chain.get<Receivable>('finance/receivable/recv-00000001')).toMatchObject({
      receivableId: 'recv-00000001',
      rootId: 'recv-00000001',
      parentId: null,
      children: [],
      issuer: LESSOR,
      debtor: LESSEE,
      holder: LESSOR,
      currency: 'EUR',
      faceValue: '200000',
      paidAmount: '0',
      dueDate: '2027-04-01',
      documents: [{ docType: 'contract', hash, amount: '300000' }],
      creditLineId: null,
      status: 'confirmed',
      frozen: null,
      encumbrance: null,
      createdAtBlock: block,
      updatedAtBlock: block,
    } satisfies Omit<Receivable, 'lastTransactionId'>);
    expect(chain.get<UnderlyingDocument>(`finance/document/contract/${hash}`)).toEqual({ docType: 'contract', hash, currency: 'EUR', amount: '300000', backed: '200000', receivables: ['recv-00000001'] } satisfies UnderlyingDocument);
    expect(lease(chain)).toMatchObject({
      status: 'active',
      encumbrance: { kind: 'lease-refinancing', financingId: 'recv-00000001', financier: LESSOR, sinceBlock: block },
      refinancing: { receivableId: 'recv-00000001', faceValue: '200000', documentHash: hash, atBlock: block },
    });
    // Financed once: the lease is locked, the receivable is what a bank finances now.
    expect(chain.code(refinance('recv-00000002'))).toBe('FINANCE.ENCUMBERED');
    expect(chain.code(apply(LESSOR, 'fin-00000001', 'lease', L))).toBe('FINANCE.ENCUMBERED');
    expect(chain.code(apply(LESSOR, 'fin-00000002', 'receivable', 'recv-00000001', { kind: 'discounting' }))).toBe('VALID');
    expect(chain.code(approve('fin-00000002'))).toBe('VALID');
    // The rent is paid through the receivable now.
    expect(chain.run(pay('pay-00000002', '100000'))[0]).toMatchObject({ code: 'FINANCE.REFINANCED', detail: expect.stringContaining('receivable recv-00000001') });
    chain.advanceDays(40);
    expect(chain.code(markOverdue())).toBe('FINANCE.REFINANCED');
    expect(chain.code(complete())).toBe('FINANCE.NOT_SETTLED');
    chain.ok(tx(LESSEE, 'finance.receivable.repay', { paymentId: 'rp-00000001', rootId: 'recv-00000001', amount: '200000', paymentReference: 'wire 77' }));
    expect(chain.get<Payment>('finance/payment/rp-00000001')?.allocations).toEqual([{ receivableId: 'recv-00000001', payee: BANK, amount: '200000', financingId: 'fin-00000002' }]);
    expect(chain.get<Financing>('finance/financing/fin-00000002')?.status).toBe('repaid');
    expect(chain.code(complete(L, OTHER))).toBe('FINANCE.NOT_PARTY');
    expect(chain.code(complete(L, LESSEE))).toBe('VALID');
    expect(lease(chain)).toMatchObject({ status: 'completed', encumbrance: null, closedAtBlock: chain.block });
    expect(paid(chain)).toEqual(['100000', '100000', '100000']);
    expect(chain.get(leaseAssetKeyOf(ITEM))).toBeUndefined();
  });

  it('completes only a refinanced lease whose receivable tree is settled', () => {
    const chain = active();
    expect(chain.run(complete())[0]).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: `lease ${L} is not refinanced; it completes with its last finance.lease.pay` });
    chain.ok(refinance('recv-00000001'));
    chain.ok(tx(LESSOR, 'finance.receivable.split', { receivableId: 'recv-00000001', parts: [{ receivableId: 'recv-00000011', faceValue: '100000', holder: LESSOR }, { receivableId: 'recv-00000012', faceValue: '200000', holder: OTHER }] }));
    chain.ok(tx(LESSEE, 'finance.receivable.repay', { paymentId: 'rp-00000001', rootId: 'recv-00000001', amount: '100000', paymentReference: 'wire 1' }));
    expect(chain.run(complete())[0]).toMatchObject({ code: 'FINANCE.NOT_SETTLED', detail: expect.stringContaining('recv-00000012 confirmed') });
    chain.ok(freeze('lease', L));
    expect(chain.code(complete())).toBe('FINANCE.FROZEN');
    chain.ok(unfreeze('lease', L));
    chain.ok(tx(LESSEE, 'finance.receivable.repay', { paymentId: 'rp-00000002', rootId: 'recv-00000001', amount: '200000', paymentReference: 'wire 2' }));
    expect(chain.code(complete())).toBe('VALID');
  });

  it('refuses a receivable id taken, the wrong signer, a lease not active, frozen, or with its term over', () => {
    const chain = active();
    chain.ok(tx(LESSOR, 'finance.receivable.issue', { receivableId: 'recv-00000009', debtor: LESSEE, currency: 'EUR', faceValue: '1000', dueDate: '2027-05-01', documents: [{ docType: 'invoice', hash: 'ab'.repeat(32), amount: '1000' }] }));
    expect(chain.code(refinance('recv-00000009'))).toBe('FINANCE.DUPLICATE_ID');
    expect(chain.code(refinance('recv-00000001', L, LESSEE))).toBe('FINANCE.NOT_LESSOR');
    expect(chain.code(refinance('short'))).toBe('FINANCE.INVALID');
    chain.ok(freeze('lease', L));
    expect(chain.code(refinance('recv-00000001'))).toBe('FINANCE.FROZEN');
    chain.ok(unfreeze('lease', L));
    chain.advanceDays(87); // 2027-04-01: every installment is due by today
    expect(chain.run(refinance('recv-00000001'))[0]).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: expect.stringContaining('nothing is left of its term') });
    const offer = proposed();
    expect(offer.code(refinance('recv-00000001'))).toBe('FINANCE.INVALID_STATE');
  });

  it('a receivable already issued against the lease’s contract document limits the refinancing', () => {
    const issueOn = (chain: GoodsChain, amount: string, faceValue: string) =>
      tx(LESSOR, 'finance.receivable.issue', { receivableId: 'recv-00000009', debtor: LESSEE, currency: 'EUR', faceValue, dueDate: '2027-04-01', documents: [{ docType: 'contract', hash: leaseDocumentHashOf(lease(chain)), amount }] });
    const overcommitted = active();
    overcommitted.ok(issueOn(overcommitted, '300000', '300000'));
    expect(overcommitted.run(refinance('recv-00000001'))[0]).toMatchObject({ code: 'FINANCE.DOCUMENT_OVERCOMMITTED', detail: expect.stringContaining('backs 300000 already') });
    const mismatch = active();
    mismatch.ok(issueOn(mismatch, '999999', '1000'));
    expect(mismatch.code(refinance('recv-00000001'))).toBe('FINANCE.DOCUMENT_MISMATCH');
    const room = active();
    room.ok(pay('pay-00000001', '200000'));
    room.ok(issueOn(room, '300000', '200000'));
    expect(room.code(refinance('recv-00000001'))).toBe('VALID');
    expect(room.get<UnderlyingDocument>(`finance/document/contract/${leaseDocumentHashOf(lease(room))}`)).toMatchObject({ backed: '300000', receivables: ['recv-00000009', 'recv-00000001'] });
  });
});

describe('financing a lease (leaseAsset)', () => {
  it('the lessor finances an active lease for the rent outstanding until its last unpaid installment', () => {
    const chain = active();
    chain.ok(pay('pay-00000001', '50000'));
    const l = lease(chain);
    expect([leaseAsset.kind, leaseAsset.holderOf(l), leaseAsset.currencyOf(l), leaseAsset.valueOf(l), leaseAsset.dueDateOf(l)]).toEqual(['lease', LESSOR, 'EUR', '250000', '2027-04-01']);
    expect(leaseAsset.notFinanceable(l)).toBeUndefined();
    for (const status of ['proposed', 'overdue', 'repossessed', 'completed', 'cancelled'] as const) expect(leaseAsset.notFinanceable({ ...l, status })).toMatchObject({ code: 'FINANCE.INVALID_STATE' });
    expect(chain.code(apply(LESSEE, 'fin-00000001', 'lease', L))).toBe('FINANCE.NOT_HOLDER');
    chain.ok(apply(LESSOR, 'fin-00000001', 'lease', L));
    expect(chain.get<Financing>('finance/financing/fin-00000001')).toMatchObject({ assetKind: 'lease', faceValue: '250000', dueDate: '2027-04-01', applicant: LESSOR });
    chain.ok(approve('fin-00000001'));
    expect(chain.code(refinance('recv-00000001'))).toBe('FINANCE.ENCUMBERED');
    // A pledged lease is still paid by the lessee; the lock stays until the financier releases it.
    chain.ok(pay('pay-00000002', '250000'));
    expect(lease(chain)).toMatchObject({ status: 'completed', encumbrance: { kind: 'pledge', financingId: 'fin-00000001' } });
  });
});

describe('deviceIdentifies', () => {
  const device = (deviceId: string, assets: string[] = []) => ({ deviceId, assets }) as unknown as Device;
  it('matches the asset’s GIAI or a bound SGTIN, element string against element string', () => {
    expect(deviceIdentifies(device(DEVICE), ITEM)).toBe(true);
    expect(deviceIdentifies(device('urn:epc:id:giai:061414.1EXC-0042'), ITEM)).toBe(true); // another prefix split, the same GIAI
    expect(deviceIdentifies(device('urn:epc:id:giai:0614141.EXC-0043'), ITEM)).toBe(false);
    expect(deviceIdentifies(device(TELEMATICS, [SGTIN_URN]), SGTIN)).toBe(true);
    expect(deviceIdentifies(device(TELEMATICS, ['urn:epc:id:sgtin:9521234.054321.A']), SGTIN)).toBe(false);
    expect(deviceIdentifies(device(TELEMATICS, ['urn:epc:id:sgtin:9521234.154321.A%2FB']), SGTIN)).toBe(false); // another indicator digit
    expect(deviceIdentifies(device(TELEMATICS, [SGTIN_URN]), 'https://id.gs1.org/01/09521234543214/21/A%2FB')).toBe(false); // a wrong check digit
    expect(deviceIdentifies(device(TELEMATICS, [SGTIN_URN]), 'https://id.gs1.org/01/09521234543213/10/A')).toBe(false);
  });
});
