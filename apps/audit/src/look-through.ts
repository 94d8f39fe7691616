import { Controller, Get, Inject, Param, Req } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '@alliance/shared/feature-platform';
import { AUDIT_READ } from './access-log';
import type { AuditContext, AuditFeature } from './features';
import { LookThroughResolver } from './look-through-graphql';
import {
  agentIdOf,
  DEVICE_STATUSES,
  deviceIdOf,
  intOf,
  itemOf,
  keyIdOf,
  onlyParameters,
  oneOf,
  optionalOrganizationIdOf,
  organizationIdOf,
  receivableIdOf,
  TRACE_DIRECTIONS,
  windowOf,
} from './look-through-params';
import { LOOK_THROUGH, LookThrough } from './look-through-views';

export { LOOK_THROUGH };

interface Req {
  readonly headers: { authorization?: string };
  readonly query: Record<string, unknown>;
}

const AT_BLOCK = { name: 'atBlock', required: false, description: 'The state as it stood after this block (identity’s atBlock)' };
export const atBlockOf = (value: unknown) => intOf(value, 'atBlock', 0, 999_999_999);

/**
 * Look-through views (docs/audit.md, Look-through views), REST under
 * /audit/v1: the entity register, the trace of a product with its proofs,
 * the tree of a receivable with its receipts, exposure per debtor and per
 * financier, payment-term compliance — every one read from the regulator's
 * own services with the caller's token.
 */
@ApiTags('look-through')
@Controller()
export class LookThroughController {
  constructor(@Inject(LOOK_THROUGH) private readonly views: LookThrough) {}

  @Get('entities/organizations')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'The entity register: every organization that has been a member or observer (identity), with membership blocks, application details, node and admin keys' })
  @ApiQuery(AT_BLOCK)
  organizations(@Req() req: Req) {
    onlyParameters(req.query, ['atBlock']);
    return this.views.organizations(req.headers.authorization, atBlockOf(req.query['atBlock']));
  }

  @Get('entities/organizations/:organizationId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'One organization with all its agents (each with its key history), its devices and the membership proposals and votes that concern it (as subject, proposer or voter)' })
  @ApiQuery(AT_BLOCK)
  organization(@Param('organizationId') organizationId: string, @Req() req: Req) {
    onlyParameters(req.query, ['atBlock']);
    return this.views.organization(req.headers.authorization, organizationIdOf(organizationId), atBlockOf(req.query['atBlock']));
  }

  @Get('entities/devices')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'Registered devices in id order (identity’s pages): `organizationId`, `status`, `after` (the last page’s `nextAfter`), `limit` 1-500 (default 100)' })
  @ApiQuery({ name: 'organizationId', required: false })
  @ApiQuery({ name: 'status', required: false, enum: DEVICE_STATUSES })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery(AT_BLOCK)
  devices(@Req() req: Req) {
    onlyParameters(req.query, ['organizationId', 'status', 'after', 'limit', 'atBlock']);
    const q = req.query;
    const after = q['after'] === undefined || q['after'] === '' ? undefined : deviceIdOf(q['after']);
    return this.views.devices(req.headers.authorization, {
      organizationId: optionalOrganizationIdOf(q['organizationId'], 'organizationId'),
      status: oneOf(q['status'], DEVICE_STATUSES, 'status'),
      after,
      limit: intOf(q['limit'], 'limit', 1, 500),
      atBlock: atBlockOf(q['atBlock']),
    });
  }

  @Get('entities/devices/:deviceId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'One device (GIAI URN, GS1 Digital Link or DID, percent-encoded) with every change of it, oldest first' })
  device(@Param('deviceId') deviceId: string, @Req() req: Req) {
    onlyParameters(req.query, []);
    return this.views.device(req.headers.authorization, deviceIdOf(deviceId));
  }

  @Get('entities/keys/:keyId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'Who holds a key (admin, node, agent, device), its status and blocks, and the history of its holder’s record (an agent’s every key added, rotated, revoked)' })
  key(@Param('keyId') keyId: string, @Req() req: Req) {
    onlyParameters(req.query, []);
    return this.views.key(req.headers.authorization, keyIdOf(keyId));
  }

  @Get('entities/organizations/:organizationId/agents/:agentId/history')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'Every version of an agent’s record, oldest first, with block and transaction: its key history' })
  agentHistory(@Param('organizationId') organizationId: string, @Param('agentId') agentId: string, @Req() req: Req) {
    onlyParameters(req.query, []);
    return this.views.agentHistory(req.headers.authorization, organizationIdOf(organizationId), agentIdOf(agentId));
  }

  @Get('traces')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'The provenance trace of an item (EPC, lot or product class): lineage upstream and downstream and the events on its paths, each with its anchoring transaction and its receipt verified against the observer node’s checkpoint (`verified`, `reason`)' })
  @ApiQuery({ name: 'item', required: true })
  @ApiQuery({ name: 'direction', required: false, enum: TRACE_DIRECTIONS })
  @ApiQuery({ name: 'depth', required: false, description: '1-50, default 10' })
  @ApiQuery({ name: 'maxNodes', required: false, description: '1-100000, default 10000' })
  trace(@Req() req: Req) {
    onlyParameters(req.query, ['item', 'direction', 'depth', 'maxNodes']);
    const q = req.query;
    return this.views.trace(req.headers.authorization, {
      item: itemOf(q['item']),
      direction: oneOf(q['direction'], TRACE_DIRECTIONS, 'direction') ?? 'both',
      depth: intOf(q['depth'], 'depth', 1, 50),
      maxNodes: intOf(q['maxNodes'], 'maxNodes', 1, 100_000),
    });
  }

  @Get('receivables/:receivableId/tree')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'The whole certificate tree of a receivable (finance): issuer, confirmation, every holder, splits, financings with rates and fees, payments — each record’s last transaction receipt verified against the observer node' })
  tree(@Param('receivableId') receivableId: string, @Req() req: Req) {
    onlyParameters(req.query, []);
    return this.views.receivableTree(req.headers.authorization, receivableIdOf(receivableId));
  }

  @Get('exposure/debtors/:organizationId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'A debtor’s exposure per currency, exactly as finance answers it: live receivables, outstanding, overdue, defaulted, frozen and financed parts, per financier, credit lines' })
  debtorExposure(@Param('organizationId') organizationId: string, @Req() req: Req) {
    onlyParameters(req.query, []);
    return this.views.debtorExposure(req.headers.authorization, organizationIdOf(organizationId));
  }

  @Get('exposure/financiers/:organizationId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'A financier’s exposure per currency, exactly as finance answers it: open financings, principal, disbursed, collected, recourse, credit lines, per debtor' })
  financierExposure(@Param('organizationId') organizationId: string, @Req() req: Req) {
    onlyParameters(req.query, []);
    return this.views.financierExposure(req.headers.authorization, organizationIdOf(organizationId));
  }

  @Get('payment-terms')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'Payment-term compliance per debtor and currency for receivables due from `from` to `to` (UTC dates, both included): due, paid on time (in full on or before the due date), paid late (days late: max, exact average), overdue, defaulted, not yet due; the late ones listed' })
  @ApiQuery({ name: 'debtor', required: false })
  @ApiQuery({ name: 'from', required: true })
  @ApiQuery({ name: 'to', required: true })
  paymentTerms(@Req() req: Req) {
    onlyParameters(req.query, ['debtor', 'from', 'to']);
    const q = req.query;
    const debtor = optionalOrganizationIdOf(q['debtor'], 'debtor');
    return this.views.paymentTerms(req.headers.authorization, { ...(debtor ? { debtor } : {}), ...windowOf(q['from'], q['to']) });
  }
}

export const lookThroughFeature: AuditFeature = {
  name: 'look-through',
  controllers: [LookThroughController],
  resolvers: [LookThroughResolver],
  providers: (context: AuditContext) => [{ provide: LOOK_THROUGH, useValue: new LookThrough(context.upstreams, context.runtime.config.CHAIN_ID) }],
};
