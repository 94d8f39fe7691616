import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated } from '@alliance/shared/feature-platform';
import { FinanceQueryErrors, MAX_PER_PAGE, type QueryParams } from './finance-query';
import { FINANCE_QUERIES, type FinanceQueries, type Page } from './finance-queries';

const paramsOf = (req: Request): QueryParams => req.query as QueryParams;

/** A `Link: <…>; rel="next"` to the next page (the same filters and perPage, the token), as the provenance API does. */
function linkNext(req: Request, res: Response, page: { nextPageToken: string | null }): void {
  if (!page.nextPageToken) return;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(req.query)) {
    if (name === 'nextPageToken' || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) query.append(name, String(v));
  }
  query.append('nextPageToken', page.nextPageToken);
  res.setHeader('Link', `<${req.baseUrl ?? ''}${req.path}?${query.toString()}>; rel="next"`);
}

function paged<T extends Page<unknown>>(req: Request, res: Response, page: T): T {
  linkNext(req, res, page);
  return page;
}

/** Refuses every query parameter on a route that takes none: a filter sent there would silently do nothing. */
function noParameters(req: Request): void {
  const names = Object.keys(req.query);
  if (names.length > 0) throw FinanceQueryErrors.unknown(names[0], []);
}

const PAGING = `\`perPage\` (1-${MAX_PER_PAGE}, default 50) and \`nextPageToken\` continue it (FINANCE.INVALID_PAGE_TOKEN with other filters); comma-separate or repeat a filter for several values; an unknown or malformed filter is 400 FINANCE.INVALID_QUERY`;

/**
 * The finance read API for ERP systems and banks (docs/finance.md, Queries,
 * positions and exposure): GET routes over the read model, for any signed-in
 * member or observer — the finance state is the chain's, which every member
 * node holds alike, so the service shows every caller the same network-wide
 * view (as provenance does for its reads). Amounts are strings of integer
 * minor units beside their currency.
 */
@ApiTags('finance queries')
@Controller()
export class FinanceQueriesController {
  constructor(@Inject(FINANCE_QUERIES) private readonly queries: FinanceQueries) {}

  @Get('receivables')
  @Authenticated()
  @ApiOperation({ summary: `Receivable certificates in receivableId order; filters holder, issuer, debtor, financier, status, rootId, parentId, creditLineId, currency, encumbered, frozen; ${PAGING}` })
  @ApiQuery({ name: 'perPage', required: false })
  @ApiQuery({ name: 'nextPageToken', required: false })
  async receivables(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return paged(req, res, await this.queries.receivables(paramsOf(req)));
  }

  @Get('receivables/:receivableId')
  @Authenticated()
  @ApiOperation({ summary: 'One receivable certificate with its outstanding amount and every financing applied for on it; 404 FINANCE.NOT_FOUND' })
  async receivable(@Param('receivableId') receivableId: string, @Req() req: Request) {
    noParameters(req);
    return this.queries.receivable(receivableId);
  }

  @Get('receivables/:receivableId/tree')
  @Authenticated()
  @ApiOperation({ summary: 'The whole certificate tree of a receivable (any node of it): nodes (issuer, holder, face value, paid, outstanding, status, encumbrance, freeze, children, depth, financings), split edges, payments and totals' })
  async tree(@Param('receivableId') receivableId: string, @Req() req: Request) {
    noParameters(req);
    return this.queries.tree(receivableId);
  }

  @Get('financings')
  @Authenticated()
  @ApiOperation({ summary: `Financings (discounting, factoring, pledge) in financingId order with their terms and what the financier collected; filters financier, applicant, status, kind, assetKind, assetId, currency; ${PAGING}` })
  @ApiQuery({ name: 'perPage', required: false })
  @ApiQuery({ name: 'nextPageToken', required: false })
  async financings(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return paged(req, res, await this.queries.financings(paramsOf(req)));
  }

  @Get('financings/:financingId')
  @Authenticated()
  @ApiOperation({ summary: 'One financing: asset, parties, kind, rate, day count, fee, discount or interest, advance, status and blocks; 404 FINANCE.NOT_FOUND' })
  async financing(@Param('financingId') financingId: string, @Req() req: Request) {
    noParameters(req);
    return this.queries.financing(financingId);
  }

  @Get('credit-lines')
  @Authenticated()
  @ApiOperation({ summary: `Credit lines in creditLineId order with limit, used and available; filters financier, debtor, status, currency; ${PAGING}` })
  @ApiQuery({ name: 'perPage', required: false })
  @ApiQuery({ name: 'nextPageToken', required: false })
  async creditLines(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return paged(req, res, await this.queries.creditLines(paramsOf(req)));
  }

  @Get('credit-lines/:creditLineId')
  @Authenticated()
  @ApiOperation({ summary: 'One credit line; 404 FINANCE.NOT_FOUND' })
  async creditLine(@Param('creditLineId') creditLineId: string, @Req() req: Request) {
    noParameters(req);
    return this.queries.creditLine(creditLineId);
  }

  @Get('payments')
  @Authenticated()
  @ApiOperation({ summary: `Debtors’ repayments of receivable trees in paymentId order, each with its allocations to holders and financiers; filters rootId, debtor, payee, receivableId, currency; ${PAGING}` })
  @ApiQuery({ name: 'perPage', required: false })
  @ApiQuery({ name: 'nextPageToken', required: false })
  async payments(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return paged(req, res, await this.queries.payments(paramsOf(req)));
  }

  @Get('payments/:paymentId')
  @Authenticated()
  @ApiOperation({ summary: 'One repayment with its allocations (receivable, payee, amount, financing) in the contract’s order and the frozen leaves it skipped; 404 FINANCE.NOT_FOUND' })
  async payment(@Param('paymentId') paymentId: string, @Req() req: Request) {
    noParameters(req);
    return this.queries.payment(paymentId);
  }

  @Get('warehouse-receipts')
  @Authenticated()
  @ApiOperation({ summary: `Warehouse receipts in receiptId order; filters warehouse, holder, financier, status, goodsItem, currency, encumbered, frozen; ${PAGING}` })
  @ApiQuery({ name: 'perPage', required: false })
  @ApiQuery({ name: 'nextPageToken', required: false })
  async warehouseReceipts(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return paged(req, res, await this.queries.warehouseReceipts(paramsOf(req)));
  }

  @Get('warehouse-receipts/:receiptId')
  @Authenticated()
  @ApiOperation({ summary: 'One warehouse receipt: goods, value, hold, encumbrance, freeze, split and merge lineage; 404 FINANCE.NOT_FOUND' })
  async warehouseReceipt(@Param('receiptId') receiptId: string, @Req() req: Request) {
    noParameters(req);
    return this.queries.warehouseReceipt(receiptId);
  }

  @Get('leases')
  @Authenticated()
  @ApiOperation({ summary: `Equipment leases in leaseId order with scheduled, paid and outstanding rent; filters lessor, lessee, financier, status, deviceId, assetItem, currency, encumbered, frozen; ${PAGING}` })
  @ApiQuery({ name: 'perPage', required: false })
  @ApiQuery({ name: 'nextPageToken', required: false })
  async leases(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return paged(req, res, await this.queries.leases(paramsOf(req)));
  }

  @Get('leases/:leaseId')
  @Authenticated()
  @ApiOperation({ summary: 'One lease with its schedule, refinancing and payments; 404 FINANCE.NOT_FOUND' })
  async lease(@Param('leaseId') leaseId: string, @Req() req: Request) {
    noParameters(req);
    return this.queries.lease(leaseId);
  }

  @Get('positions/:organizationId')
  @Authenticated()
  @ApiOperation({ summary: 'An organization’s positions: receivables it holds and owes (by status and currency, live totals, financed part), financings it obtained and granted, credit lines, warehouse receipts, leases as lessor and lessee, payments received and made' })
  async positions(@Param('organizationId') organizationId: string, @Req() req: Request) {
    noParameters(req);
    return this.queries.positions(organizationId);
  }

  @Get('exposure/debtors')
  @Authenticated()
  @ApiOperation({ summary: `Exposure per debtor and currency, in that order: outstanding of its live receivables (overdue, defaulted, frozen, financed parts) and per financier the financed part and the credit lines; filters debtor, currency; ${PAGING}` })
  @ApiQuery({ name: 'perPage', required: false })
  @ApiQuery({ name: 'nextPageToken', required: false })
  async debtorExposure(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return paged(req, res, await this.queries.debtorExposure(paramsOf(req)));
  }

  @Get('exposure/financiers')
  @Authenticated()
  @ApiOperation({ summary: `Exposure per financier and currency, in that order: principal, disbursed and collected of its open financings, recourse claims and credit lines, in total and per debtor; filters financier, currency; ${PAGING}` })
  @ApiQuery({ name: 'perPage', required: false })
  @ApiQuery({ name: 'nextPageToken', required: false })
  async financierExposure(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return paged(req, res, await this.queries.financierExposure(paramsOf(req)));
  }
}
