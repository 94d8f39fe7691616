import { describe, expect, it } from 'vitest';
import { COMMAND_ROUTES, operationOf, paramsOf } from './command-routes';
import { payloadOf } from './finance-api';
import { financeKeyOf } from './read-model';

const route = (name: string) => {
  const found = COMMAND_ROUTES.find((r) => r.name === name);
  if (!found) throw new Error(name);
  return found;
};

describe('finance command routes', () => {
  it('name every route once, each with its operation and the contract transaction it becomes', () => {
    expect(new Set(COMMAND_ROUTES.map((r) => r.name)).size).toBe(COMMAND_ROUTES.length);
    expect(new Set(COMMAND_ROUTES.map(operationOf)).size).toBe(COMMAND_ROUTES.length);
    expect(operationOf(route('receivables_confirm'))).toBe('POST /receivables/{receivableId}/confirm');
    expect(route('receivables_repay').type).toBe('finance.receivable.repay');
    expect(paramsOf(route('assets_freeze'))).toEqual(['assetKind', 'assetId']);
    expect(route('assets_freeze').record({ assetKind: 'lease', assetId: 'l-1' })).toBe('finance/lease/l-1');
  });

  it('turn body and path into the payload, the path parameter under its own name', () => {
    expect(payloadOf(route('receivables_confirm'), { receivableId: 'r-000001' }, { creditLineId: 'line-0001' })).toEqual({ receivableId: 'r-000001', creditLineId: 'line-0001' });
    expect(payloadOf(route('receivables_repay'), { rootId: 'r-000001' }, { paymentId: 'p-000001', amount: '5', paymentReference: 'SEPA 1' })).toEqual({
      rootId: 'r-000001',
      paymentId: 'p-000001',
      amount: '5',
      paymentReference: 'SEPA 1',
    });
    expect(payloadOf(route('financings_release'), { financingId: 'f-000001' }, undefined)).toEqual({ financingId: 'f-000001' });
    // Agreeing repetition of a path parameter is fine.
    expect(payloadOf(route('receivables_confirm'), { receivableId: 'r-000001' }, { receivableId: 'r-000001', creditLineId: 'l' })).toMatchObject({ receivableId: 'r-000001' });
  });

  it('refuse a body of another shape with FINANCE.INVALID naming every problem, and leave values to the contract', () => {
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error as { code: string; details: { problems: Array<{ path: string }> } };
      }
      throw new Error('accepted');
    };
    const e = refusal(() => payloadOf(route('financings_approve'), { financingId: 'f-000001' }, { rateBps: '500', dayCount: 'ACT/360', extra: 1 }));
    expect(e.code).toBe('FINANCE.INVALID');
    expect(e.details.problems.map((p) => p.path).sort()).toEqual(['/extra', '/feeMinor', '/rateBps']);
    expect(refusal(() => payloadOf(route('receivables_confirm'), { receivableId: 'r-000001' }, { receivableId: 'r-000002', creditLineId: 'l' })).details.problems[0].path).toBe('/receivableId');
    expect(refusal(() => payloadOf(route('receivables_split'), { receivableId: 'r-1' }, { parts: [{ receivableId: 'a', faceValue: 1, holder: 'org1' }] })).details.problems[0].path).toBe('/parts/0/faceValue');
    expect(refusal(() => payloadOf(route('receivables_cancel'), { receivableId: 'r-1' }, ['reason'])).code).toBe('FINANCE.INVALID');
    // Values are the contract's: an amount with a leading zero is of the right shape.
    expect(payloadOf(route('creditLines_update'), { creditLineId: 'l-000001' }, { limit: '0100', expiresOn: null })).toEqual({ creditLineId: 'l-000001', limit: '0100', expiresOn: null });
  });
});

describe('financeKeyOf', () => {
  it('names the record kinds the read model projects and nothing else', () => {
    expect(financeKeyOf('finance/receivable/r-000001')).toEqual({ kind: 'receivable', id: 'r-000001' });
    expect(financeKeyOf('finance/credit-line/l-000001')).toEqual({ kind: 'credit-line', id: 'l-000001' });
    expect(financeKeyOf(`finance/document/invoice/${'a'.repeat(64)}`)).toEqual({ kind: 'document', id: `invoice/${'a'.repeat(64)}` });
    expect(financeKeyOf('finance/document/invoice')).toBeUndefined();
    expect(financeKeyOf('finance/lot-receipt/aHR0cHM')).toBeUndefined();
    expect(financeKeyOf('provenance/item/x')).toBeUndefined();
  });
});
