import { Inject } from '@nestjs/common';
import { Args, Directive, Field, InputType, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { Authenticated } from '@alliance/shared/feature-platform';
import type { QueryParams } from './finance-query';
import {
  type CertificateTree,
  type CreditLineView,
  type DebtorExposure,
  FINANCE_QUERIES,
  type FinancePositions as FinancePositionsView,
  type FinanceQueries,
  type FinancierExposure,
  type FinancingView,
  type LeaseView,
  type Page,
  type PaymentView,
  type ReceivableView,
  type WarehouseReceiptView,
} from './finance-queries';

/*
 * Finance for dashboards (docs/finance.md, Queries, positions and exposure):
 * the subgraph's types, every one named Finance… so none meets a type of
 * another subgraph in the gateway's supergraph, and each @shareable like the
 * other subgraphs' read types. The same FinanceQueries answer REST and
 * GraphQL, so both give the same figures and the same error codes
 * (extensions.code FINANCE.NOT_FOUND, FINANCE.INVALID_QUERY,
 * FINANCE.INVALID_PAGE_TOKEN). Amounts are strings of integer minor units.
 */

const MINOR = { description: 'Integer minor units of the currency, as a decimal string' };

@ObjectType({ description: 'The lock a financing puts on an asset' })
@Directive('@shareable')
export class FinanceEncumbrance {
  @Field({ description: 'discounting, factoring, pledge or lease-refinancing' }) kind!: string;
  @Field() financingId!: string;
  @Field() financier!: string;
  @Field(() => Int, { nullable: true }) sinceBlock!: number | null;
}

@ObjectType({ description: 'A freeze an observer organization (regulator, court) put on an asset' })
@Directive('@shareable')
export class FinanceFreeze {
  @Field() by!: string;
  @Field() reason!: string;
  @Field(() => String, { nullable: true }) orderReference!: string | null;
  @Field(() => Int, { nullable: true }) atBlock!: number | null;
  @Field(() => String, { nullable: true }) at!: string | null;
}

@ObjectType({ description: 'An underlying document of a receivable, by type, SHA-256 and amount' })
@Directive('@shareable')
export class FinanceDocumentRef {
  @Field() docType!: string;
  @Field() hash!: string;
  @Field(MINOR) amount!: string;
  @Field(() => String, { nullable: true, description: 'A delivery’s EPCIS event in provenance' }) eventId!: string | null;
}

@ObjectType({ description: 'A receivable certificate' })
@Directive('@shareable')
export class FinanceReceivable {
  @Field() receivableId!: string;
  @Field() rootId!: string;
  @Field(() => String, { nullable: true }) parentId!: string | null;
  @Field(() => [String]) children!: string[];
  @Field() issuer!: string;
  @Field() debtor!: string;
  @Field() holder!: string;
  @Field() currency!: string;
  @Field(MINOR) faceValue!: string;
  @Field(MINOR) paidAmount!: string;
  @Field({ description: 'faceValue − paidAmount while issued, confirmed, overdue or defaulted; 0 once split, settled, rejected or cancelled' }) outstanding!: string;
  @Field({ description: 'YYYY-MM-DD (UTC)' }) dueDate!: string;
  @Field(() => [FinanceDocumentRef]) documents!: FinanceDocumentRef[];
  @Field(() => String, { nullable: true }) creditLineId!: string | null;
  @Field({ description: 'issued, confirmed, split, settled, overdue, defaulted, rejected or cancelled' }) status!: string;
  @Field(() => FinanceEncumbrance, { nullable: true }) encumbrance!: FinanceEncumbrance | null;
  @Field(() => FinanceFreeze, { nullable: true }) frozen!: FinanceFreeze | null;
  @Field(() => Int, { nullable: true }) createdAtBlock!: number | null;
  @Field(() => Int) updatedAtBlock!: number;
  @Field() lastTransactionId!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceReceivablePage {
  @Field(() => [FinanceReceivable]) items!: FinanceReceivable[];
  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page (same filter)' }) nextPageToken!: string | null;
}

@ObjectType({ description: 'A financing (discounting, factoring or pledge) of an asset, with its terms' })
@Directive('@shareable')
export class FinanceFinancing {
  @Field() financingId!: string;
  @Field({ description: 'receivable, warehouse-receipt or lease' }) assetKind!: string;
  @Field() assetId!: string;
  @Field() applicant!: string;
  @Field() financier!: string;
  @Field() kind!: string;
  @Field() recourse!: boolean;
  @Field() currency!: string;
  @Field(MINOR) faceValue!: string;
  @Field(MINOR) principal!: string;
  @Field(() => String, { nullable: true }) dueDate!: string | null;
  @Field(() => Int, { nullable: true }) rateBps!: number | null;
  @Field(() => String, { nullable: true, description: 'ACT/360 or ACT/365F' }) dayCount!: string | null;
  @Field(() => String, { nullable: true }) feeMinor!: string | null;
  @Field(() => String, { nullable: true }) discount!: string | null;
  @Field(() => String, { nullable: true }) interest!: string | null;
  @Field(() => String, { nullable: true, description: 'The advance (discounting, factoring) or the loan less the fee (pledge)' }) disbursedAmount!: string | null;
  @Field(() => Int, { nullable: true }) days!: number | null;
  @Field(() => String, { nullable: true }) approvedOn!: string | null;
  @Field() status!: string;
  @Field({ description: 'Σ repayment allocations paid to the financier for this financing' }) collected!: string;
  @Field(() => String, { nullable: true }) paymentReference!: string | null;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => Int, { nullable: true }) appliedAtBlock!: number | null;
  @Field(() => Int, { nullable: true }) decidedAtBlock!: number | null;
  @Field(() => Int, { nullable: true }) disbursedAtBlock!: number | null;
  @Field(() => Int, { nullable: true }) closedAtBlock!: number | null;
  @Field(() => Int) updatedAtBlock!: number;
  @Field() lastTransactionId!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceFinancingPage {
  @Field(() => [FinanceFinancing]) items!: FinanceFinancing[];
  @Field(() => String, { nullable: true }) nextPageToken!: string | null;
}

@ObjectType({ description: 'A credit line a financier granted a debtor' })
@Directive('@shareable')
export class FinanceCreditLine {
  @Field() creditLineId!: string;
  @Field() financier!: string;
  @Field() debtor!: string;
  @Field() currency!: string;
  @Field(MINOR) limit!: string;
  @Field(MINOR) used!: string;
  @Field({ description: 'limit − used while active (never below 0); 0 when suspended or closed' }) available!: string;
  @Field() status!: string;
  @Field(() => String, { nullable: true }) expiresOn!: string | null;
  @Field(() => Int, { nullable: true }) createdAtBlock!: number | null;
  @Field(() => Int) updatedAtBlock!: number;
  @Field() lastTransactionId!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceCreditLinePage {
  @Field(() => [FinanceCreditLine]) items!: FinanceCreditLine[];
  @Field(() => String, { nullable: true }) nextPageToken!: string | null;
}

@ObjectType()
@Directive('@shareable')
export class FinancePaymentAllocation {
  @Field() receivableId!: string;
  @Field({ description: 'The leaf’s financier when a financing encumbered it, else its holder' }) payee!: string;
  @Field(MINOR) amount!: string;
  @Field(() => String, { nullable: true }) financingId!: string | null;
}

@ObjectType({ description: 'A debtor’s repayment of a receivable tree and how the contract allocated it' })
@Directive('@shareable')
export class FinancePayment {
  @Field() paymentId!: string;
  @Field() rootId!: string;
  @Field() debtor!: string;
  @Field() currency!: string;
  @Field(MINOR) amount!: string;
  @Field(() => String, { nullable: true }) paymentReference!: string | null;
  @Field(() => [FinancePaymentAllocation]) allocations!: FinancePaymentAllocation[];
  @Field(() => [String]) skippedFrozen!: string[];
  @Field(() => Int, { nullable: true }) atBlock!: number | null;
  @Field(() => String, { nullable: true }) at!: string | null;
  @Field() lastTransactionId!: string;
}

@ObjectType({ description: 'A node of a certificate tree: the receivable, its depth and its financings' })
@Directive('@shareable')
export class FinanceCertificateNode extends FinanceReceivable {
  @Field(() => Int, { description: 'Splits from the root (0)' }) depth!: number;
  @Field(() => [FinanceFinancing]) financings!: FinanceFinancing[];
}

@ObjectType({ description: 'A split: `from` (the parent) was split into `to`, among others' })
@Directive('@shareable')
export class FinanceCertificateEdge {
  @Field() from!: string;
  @Field() to!: string;
}

@ObjectType({ description: 'The whole certificate tree of a receivable, as nodes and edges to draw' })
@Directive('@shareable')
export class FinanceCertificateTree {
  @Field() rootId!: string;
  @Field() receivableId!: string;
  @Field() currency!: string;
  @Field() debtor!: string;
  @Field() issuer!: string;
  @Field() dueDate!: string;
  @Field({ description: 'The root’s face value (= Σ of the leaves’)' }) faceValue!: string;
  @Field({ description: 'Σ paidAmount of the leaves' }) paid!: string;
  @Field({ description: 'Σ outstanding of the live leaves' }) outstanding!: string;
  @Field({ description: 'Σ outstanding of the live leaves a financing encumbers' }) financed!: string;
  @Field(() => [FinanceCertificateNode], { description: 'Root first, then by depth' }) nodes!: FinanceCertificateNode[];
  @Field(() => [FinanceCertificateEdge]) edges!: FinanceCertificateEdge[];
  @Field(() => [FinancePayment]) payments!: FinancePayment[];
  @Field(() => Int, { description: 'The last block the read model applied' }) asOfBlock!: number;
}

@ObjectType()
@Directive('@shareable')
export class FinanceWarehouseGoods {
  @Field() item!: string;
  @Field() quantity!: string;
  @Field() uom!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceReceiptHold {
  @Field() cause!: string;
  @Field() reference!: string;
  @Field() by!: string;
  @Field(() => Int, { nullable: true }) atBlock!: number | null;
  @Field(() => String, { nullable: true }) at!: string | null;
}

@ObjectType({ description: 'A warehouse receipt for goods in a warehouse’s custody' })
@Directive('@shareable')
export class FinanceWarehouseReceipt {
  @Field() receiptId!: string;
  @Field() warehouse!: string;
  @Field() holder!: string;
  @Field(() => FinanceWarehouseGoods) goods!: FinanceWarehouseGoods;
  @Field(() => [String]) evidence!: string[];
  @Field() currency!: string;
  @Field(MINOR) value!: string;
  @Field(() => String, { nullable: true }) expiresOn!: string | null;
  @Field() status!: string;
  @Field(() => FinanceReceiptHold, { nullable: true }) hold!: FinanceReceiptHold | null;
  @Field(() => Int, { nullable: true }) deliveryRequestedAtBlock!: number | null;
  @Field(() => [String]) parentIds!: string[];
  @Field(() => [String]) childIds!: string[];
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => FinanceEncumbrance, { nullable: true }) encumbrance!: FinanceEncumbrance | null;
  @Field(() => FinanceFreeze, { nullable: true }) frozen!: FinanceFreeze | null;
  @Field(() => Int, { nullable: true }) createdAtBlock!: number | null;
  @Field(() => Int, { nullable: true }) closedAtBlock!: number | null;
  @Field(() => Int) updatedAtBlock!: number;
  @Field() lastTransactionId!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceWarehouseReceiptPage {
  @Field(() => [FinanceWarehouseReceipt]) items!: FinanceWarehouseReceipt[];
  @Field(() => String, { nullable: true }) nextPageToken!: string | null;
}

@ObjectType()
@Directive('@shareable')
export class FinanceLeasedAsset {
  @Field() item!: string;
  @Field() deviceId!: string;
  @Field(() => String, { nullable: true }) deviceOrganization!: string | null;
}

@ObjectType()
@Directive('@shareable')
export class FinanceLeaseInstallment {
  @Field() dueDate!: string;
  @Field(MINOR) amount!: string;
  @Field(MINOR) paidAmount!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceLeaseRefinancing {
  @Field() receivableId!: string;
  @Field(MINOR) faceValue!: string;
  @Field() documentHash!: string;
  @Field(() => Int, { nullable: true }) atBlock!: number | null;
}

@ObjectType({ description: 'An equipment lease of a device-identified asset' })
@Directive('@shareable')
export class FinanceLease {
  @Field() leaseId!: string;
  @Field() lessor!: string;
  @Field() lessee!: string;
  @Field(() => FinanceLeasedAsset) asset!: FinanceLeasedAsset;
  @Field() currency!: string;
  @Field(() => [FinanceLeaseInstallment]) schedule!: FinanceLeaseInstallment[];
  @Field({ description: 'Σ installment amounts' }) scheduled!: string;
  @Field({ description: 'Σ installment paidAmount' }) paid!: string;
  @Field({ description: 'scheduled − paid while active or overdue, else 0' }) outstanding!: string;
  @Field() status!: string;
  @Field(() => String, { nullable: true }) overdueSince!: string | null;
  @Field(() => FinanceLeaseRefinancing, { nullable: true }) refinancing!: FinanceLeaseRefinancing | null;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => FinanceEncumbrance, { nullable: true }) encumbrance!: FinanceEncumbrance | null;
  @Field(() => FinanceFreeze, { nullable: true }) frozen!: FinanceFreeze | null;
  @Field(() => Int, { nullable: true }) createdAtBlock!: number | null;
  @Field(() => Int, { nullable: true }) acceptedAtBlock!: number | null;
  @Field(() => Int, { nullable: true }) closedAtBlock!: number | null;
  @Field(() => Int) updatedAtBlock!: number;
  @Field() lastTransactionId!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceLeasePage {
  @Field(() => [FinanceLease]) items!: FinanceLease[];
  @Field(() => String, { nullable: true }) nextPageToken!: string | null;
}

@ObjectType({ description: 'Receivables of one status and currency' })
@Directive('@shareable')
export class FinanceReceivableGroup {
  @Field() status!: string;
  @Field() currency!: string;
  @Field(() => Int) count!: number;
  @Field() faceValue!: string;
  @Field() paidAmount!: string;
  @Field() outstanding!: string;
  @Field({ description: 'Σ outstanding of those a financing encumbers' }) financed!: string;
}

@ObjectType({ description: 'Live receivables (confirmed, overdue, defaulted) of one currency' })
@Directive('@shareable')
export class FinanceLiveReceivables {
  @Field() currency!: string;
  @Field(() => Int) count!: number;
  @Field() outstanding!: string;
  @Field() overdue!: string;
  @Field() defaulted!: string;
  @Field() financed!: string;
  @Field() frozen!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceReceivablePosition {
  @Field(() => [FinanceReceivableGroup]) byStatus!: FinanceReceivableGroup[];
  @Field(() => [FinanceLiveReceivables]) live!: FinanceLiveReceivables[];
}

@ObjectType({ description: 'Financings of one status, kind and currency' })
@Directive('@shareable')
export class FinanceFinancingGroup {
  @Field() status!: string;
  @Field() kind!: string;
  @Field() currency!: string;
  @Field(() => Int) count!: number;
  @Field() principal!: string;
  @Field({ description: 'Σ disbursedAmount of those the financier disbursed' }) disbursed!: string;
  @Field() discount!: string;
  @Field() interest!: string;
  @Field() fees!: string;
  @Field() collected!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceCreditLineGroup {
  @Field() status!: string;
  @Field() currency!: string;
  @Field(() => Int) count!: number;
  @Field() limit!: string;
  @Field() used!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceReceiptGroup {
  @Field() status!: string;
  @Field() currency!: string;
  @Field(() => Int) count!: number;
  @Field() value!: string;
  @Field() financed!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinanceLeaseGroup {
  @Field() status!: string;
  @Field() currency!: string;
  @Field(() => Int) count!: number;
  @Field() scheduled!: string;
  @Field() paid!: string;
  @Field() outstanding!: string;
}

@ObjectType()
@Directive('@shareable')
export class FinancePaymentTotal {
  @Field({ description: 'receivable (repayment allocations) or lease (installment payments)' }) source!: string;
  @Field() currency!: string;
  @Field(() => Int) count!: number;
  @Field() amount!: string;
}

@ObjectType({ description: 'What an organization holds, owes, obtained and granted in finance' })
@Directive('@shareable')
export class FinancePositions {
  @Field() organizationId!: string;
  @Field(() => Int) asOfBlock!: number;
  @Field(() => FinanceReceivablePosition, { description: 'Receivables it holds' }) holding!: FinanceReceivablePosition;
  @Field(() => FinanceReceivablePosition, { description: 'Receivables it owes as debtor (split parents left out)' }) owing!: FinanceReceivablePosition;
  @Field(() => [FinanceFinancingGroup]) financingsObtained!: FinanceFinancingGroup[];
  @Field(() => [FinanceFinancingGroup]) financingsGranted!: FinanceFinancingGroup[];
  @Field(() => [FinanceCreditLineGroup]) creditLinesReceived!: FinanceCreditLineGroup[];
  @Field(() => [FinanceCreditLineGroup]) creditLinesGranted!: FinanceCreditLineGroup[];
  @Field(() => [FinanceReceiptGroup]) warehouseReceiptsHeld!: FinanceReceiptGroup[];
  @Field(() => [FinanceReceiptGroup]) warehouseReceiptsIssued!: FinanceReceiptGroup[];
  @Field(() => [FinanceLeaseGroup]) leasesAsLessor!: FinanceLeaseGroup[];
  @Field(() => [FinanceLeaseGroup]) leasesAsLessee!: FinanceLeaseGroup[];
  @Field(() => [FinancePaymentTotal]) paymentsReceived!: FinancePaymentTotal[];
  @Field(() => [FinancePaymentTotal]) paymentsMade!: FinancePaymentTotal[];
}

@ObjectType({ description: 'One financier’s share of a debtor’s exposure' })
@Directive('@shareable')
export class FinanceDebtorFinancier {
  @Field() financier!: string;
  @Field(() => Int) receivables!: number;
  @Field() financed!: string;
  @Field() principal!: string;
  @Field() disbursed!: string;
  @Field(() => Int) creditLines!: number;
  @Field() creditLimit!: string;
  @Field() creditUsed!: string;
}

@ObjectType({ description: 'A debtor’s exposure in one currency' })
@Directive('@shareable')
export class FinanceDebtorExposure {
  @Field() debtor!: string;
  @Field() currency!: string;
  @Field(() => Int) receivables!: number;
  @Field() outstanding!: string;
  @Field() overdue!: string;
  @Field() defaulted!: string;
  @Field() frozen!: string;
  @Field() financed!: string;
  @Field(() => Int) creditLines!: number;
  @Field() creditLimit!: string;
  @Field() creditUsed!: string;
  @Field(() => [FinanceDebtorFinancier]) financiers!: FinanceDebtorFinancier[];
}

@ObjectType()
@Directive('@shareable')
export class FinanceDebtorExposurePage {
  @Field(() => [FinanceDebtorExposure]) items!: FinanceDebtorExposure[];
  @Field(() => String, { nullable: true }) nextPageToken!: string | null;
  @Field(() => Int) asOfBlock!: number;
}

@ObjectType({ description: 'What one debtor owes a financier' })
@Directive('@shareable')
export class FinanceFinancierDebtor {
  @Field() debtor!: string;
  @Field(() => Int) financings!: number;
  @Field() principal!: string;
  @Field() disbursed!: string;
  @Field() collected!: string;
  @Field() recourse!: string;
  @Field(() => Int) creditLines!: number;
  @Field() creditLimit!: string;
  @Field() creditUsed!: string;
}

@ObjectType({ description: 'A financier’s exposure in one currency' })
@Directive('@shareable')
export class FinanceFinancierExposure {
  @Field() financier!: string;
  @Field() currency!: string;
  @Field(() => Int) financings!: number;
  @Field() principal!: string;
  @Field() disbursed!: string;
  @Field() collected!: string;
  @Field() recourse!: string;
  @Field(() => Int) creditLines!: number;
  @Field() creditLimit!: string;
  @Field() creditUsed!: string;
  @Field(() => [FinanceFinancierDebtor]) debtors!: FinanceFinancierDebtor[];
}

@ObjectType()
@Directive('@shareable')
export class FinanceFinancierExposurePage {
  @Field(() => [FinanceFinancierExposure]) items!: FinanceFinancierExposure[];
  @Field(() => String, { nullable: true }) nextPageToken!: string | null;
  @Field(() => Int) asOfBlock!: number;
}

@InputType({ description: 'Filters of financeReceivables (as GET /finance/v1/receivables); several values of one filter match any' })
export class FinanceReceivableFilter {
  @Field(() => [String], { nullable: true }) holder?: string[] | null;
  @Field(() => [String], { nullable: true }) issuer?: string[] | null;
  @Field(() => [String], { nullable: true }) debtor?: string[] | null;
  @Field(() => [String], { nullable: true }) financier?: string[] | null;
  @Field(() => [String], { nullable: true }) status?: string[] | null;
  @Field(() => [String], { nullable: true }) rootId?: string[] | null;
  @Field(() => [String], { nullable: true }) parentId?: string[] | null;
  @Field(() => [String], { nullable: true }) creditLineId?: string[] | null;
  @Field(() => [String], { nullable: true }) currency?: string[] | null;
  @Field(() => Boolean, { nullable: true }) encumbered?: boolean | null;
  @Field(() => Boolean, { nullable: true }) frozen?: boolean | null;
}

@InputType({ description: 'Filters of financings (as GET /finance/v1/financings)' })
export class FinanceFinancingFilter {
  @Field(() => [String], { nullable: true }) financier?: string[] | null;
  @Field(() => [String], { nullable: true }) applicant?: string[] | null;
  @Field(() => [String], { nullable: true }) status?: string[] | null;
  @Field(() => [String], { nullable: true }) kind?: string[] | null;
  @Field(() => [String], { nullable: true }) assetKind?: string[] | null;
  @Field(() => [String], { nullable: true }) assetId?: string[] | null;
  @Field(() => [String], { nullable: true }) currency?: string[] | null;
}

@InputType({ description: 'Filters of financeCreditLines (as GET /finance/v1/credit-lines)' })
export class FinanceCreditLineFilter {
  @Field(() => [String], { nullable: true }) financier?: string[] | null;
  @Field(() => [String], { nullable: true }) debtor?: string[] | null;
  @Field(() => [String], { nullable: true }) status?: string[] | null;
  @Field(() => [String], { nullable: true }) currency?: string[] | null;
}

@InputType({ description: 'Filters of warehouseReceipts (as GET /finance/v1/warehouse-receipts)' })
export class FinanceWarehouseReceiptFilter {
  @Field(() => [String], { nullable: true }) warehouse?: string[] | null;
  @Field(() => [String], { nullable: true }) holder?: string[] | null;
  @Field(() => [String], { nullable: true }) financier?: string[] | null;
  @Field(() => [String], { nullable: true }) status?: string[] | null;
  @Field(() => [String], { nullable: true }) goodsItem?: string[] | null;
  @Field(() => [String], { nullable: true }) currency?: string[] | null;
  @Field(() => Boolean, { nullable: true }) encumbered?: boolean | null;
  @Field(() => Boolean, { nullable: true }) frozen?: boolean | null;
}

@InputType({ description: 'Filters of leases (as GET /finance/v1/leases)' })
export class FinanceLeaseFilter {
  @Field(() => [String], { nullable: true }) lessor?: string[] | null;
  @Field(() => [String], { nullable: true }) lessee?: string[] | null;
  @Field(() => [String], { nullable: true }) financier?: string[] | null;
  @Field(() => [String], { nullable: true }) status?: string[] | null;
  @Field(() => [String], { nullable: true }) deviceId?: string[] | null;
  @Field(() => [String], { nullable: true }) assetItem?: string[] | null;
  @Field(() => [String], { nullable: true }) currency?: string[] | null;
  @Field(() => Boolean, { nullable: true }) encumbered?: boolean | null;
  @Field(() => Boolean, { nullable: true }) frozen?: boolean | null;
}

/**
 * A GraphQL filter, `first` and `after` as the REST query parameters, so both
 * go through the one parser (same checks, same page tokens). A value list
 * travels whole: a comma inside a value is refused there as in REST.
 */
export function paramsOfFilter(filter: object | null | undefined, first?: number | null, after?: string | null): QueryParams {
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(filter ?? {})) {
    if (value === null || value === undefined) continue;
    params[name] = typeof value === 'boolean' ? String(value) : (value as string[]).map(String);
  }
  if (first !== null && first !== undefined) params['perPage'] = String(first);
  if (after !== null && after !== undefined) params['nextPageToken'] = after;
  return params;
}

const PAGE_ARGS = { description: 'At most `first` (1-500, default 50) after the token `after` of the previous page' };

/**
 * The dashboards' finance queries: the read model through FinanceQueries, for
 * any signed-in caller (as REST).
 */
@Resolver()
@Authenticated()
export class FinanceResolver {
  constructor(@Inject(FINANCE_QUERIES) private readonly queries: FinanceQueries) {}

  @Query(() => FinanceReceivablePage, { description: `Receivable certificates in receivableId order. ${PAGE_ARGS.description}` })
  async financeReceivables(
    @Args('filter', { type: () => FinanceReceivableFilter, nullable: true }) filter?: FinanceReceivableFilter | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<Page<ReceivableView>> {
    return this.queries.receivables(paramsOfFilter(filter, first, after));
  }

  @Query(() => FinanceReceivable, { description: 'One receivable certificate (FINANCE.NOT_FOUND)' })
  financeReceivable(@Args('id') id: string): Promise<ReceivableView> {
    return this.queries.receivable(id);
  }

  @Query(() => FinanceCertificateTree, { description: 'The whole certificate tree a receivable (any node) belongs to, as nodes and split edges, with financings and payments' })
  certificateTree(@Args('receivableId') receivableId: string): Promise<CertificateTree> {
    return this.queries.tree(receivableId);
  }

  @Query(() => FinancePositions, { description: 'What an organization holds, owes, obtained and granted (as GET /finance/v1/positions/{organizationId})' })
  financePositions(@Args('organizationId') organizationId: string): Promise<FinancePositionsView> {
    return this.queries.positions(organizationId);
  }

  @Query(() => FinanceDebtorExposurePage, { description: `Exposure per debtor and currency (as GET /finance/v1/exposure/debtors). ${PAGE_ARGS.description}` })
  debtorExposure(
    @Args('debtor', { type: () => [String], nullable: true }) debtor?: string[] | null,
    @Args('currency', { type: () => [String], nullable: true }) currency?: string[] | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<Page<DebtorExposure>> {
    return this.queries.debtorExposure(paramsOfFilter({ debtor, currency }, first, after));
  }

  @Query(() => FinanceFinancierExposurePage, { description: `Exposure per financier and currency, with its debtors (as GET /finance/v1/exposure/financiers). ${PAGE_ARGS.description}` })
  financierExposure(
    @Args('financier', { type: () => [String], nullable: true }) financier?: string[] | null,
    @Args('currency', { type: () => [String], nullable: true }) currency?: string[] | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<Page<FinancierExposure>> {
    return this.queries.financierExposure(paramsOfFilter({ financier, currency }, first, after));
  }

  @Query(() => FinanceFinancingPage, { description: `Financings in financingId order. ${PAGE_ARGS.description}` })
  financings(
    @Args('filter', { type: () => FinanceFinancingFilter, nullable: true }) filter?: FinanceFinancingFilter | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<Page<FinancingView>> {
    return this.queries.financings(paramsOfFilter(filter, first, after));
  }

  @Query(() => FinanceFinancing, { description: 'One financing (FINANCE.NOT_FOUND)' })
  financeFinancing(@Args('id') id: string): Promise<FinancingView> {
    return this.queries.financing(id);
  }

  @Query(() => FinanceCreditLinePage, { description: `Credit lines in creditLineId order. ${PAGE_ARGS.description}` })
  financeCreditLines(
    @Args('filter', { type: () => FinanceCreditLineFilter, nullable: true }) filter?: FinanceCreditLineFilter | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<Page<CreditLineView>> {
    return this.queries.creditLines(paramsOfFilter(filter, first, after));
  }

  @Query(() => FinancePayment, { description: 'One repayment with its allocations (FINANCE.NOT_FOUND)' })
  financePayment(@Args('id') id: string): Promise<PaymentView> {
    return this.queries.payment(id);
  }

  @Query(() => FinanceWarehouseReceiptPage, { description: `Warehouse receipts in receiptId order. ${PAGE_ARGS.description}` })
  warehouseReceipts(
    @Args('filter', { type: () => FinanceWarehouseReceiptFilter, nullable: true }) filter?: FinanceWarehouseReceiptFilter | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<Page<WarehouseReceiptView>> {
    return this.queries.warehouseReceipts(paramsOfFilter(filter, first, after));
  }

  @Query(() => FinanceLeasePage, { description: `Equipment leases in leaseId order. ${PAGE_ARGS.description}` })
  leases(
    @Args('filter', { type: () => FinanceLeaseFilter, nullable: true }) filter?: FinanceLeaseFilter | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<Page<LeaseView>> {
    return this.queries.leases(paramsOfFilter(filter, first, after));
  }
}
