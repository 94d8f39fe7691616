import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { type MasterDataRecord, type MasterDataType, masterDataKeyOf, masterDataPrefixOf, MASTER_DATA_TYPES } from '@alliance/ledger/domain';
import { isMasterDataType, masterDataElementOf, masterDataIdOf } from '@alliance/provenance/domain';
import type { ChainFollower, ChainWriter } from '@alliance/shared/data-access-messaging';
import { Authenticated, RequirePermission } from '@alliance/shared/feature-platform';
import { AllianceError } from '@alliance/shared/util-errors';
import { CHAIN_WRITER, PROVENANCE_FOLLOWER, PROVENANCE_READ_MODEL } from './provenance-api';
import type { ProvenanceReadModel } from './read-model';

const DEFAULT_PAGE = 30;
const MAX_PAGE = 500;

function typeOf(value: string): MasterDataType {
  if (!isMasterDataType(value)) throw new AllianceError('PROVENANCE.INVALID_MASTERDATA', 'invalid', `master data type must be one of ${MASTER_DATA_TYPES.join(', ')} (got ${value})`);
  return value;
}

function idOf(type: MasterDataType, value: unknown): string {
  const id = masterDataIdOf(type, value);
  if (!id.ok) throw new AllianceError(id.code, 'invalid', id.detail);
  return id.value;
}

/**
 * Master data on the ledger (docs/provenance.md, Master data): products,
 * locations and parties by GS1 key, written with this organization's
 * signature (`provenance.masterdata.define` / `.retire`) and read from the
 * read model's mirror of the chain (`provenance.chain_state`), so every
 * member's service answers the same. An id is an EPC URN, a GS1 Digital Link
 * or the bare key, URL-encoded; every spelling names the one record.
 */
@ApiTags('masterdata')
@Controller('masterdata')
export class MasterDataController {
  constructor(
    @Inject(CHAIN_WRITER) private readonly writer: ChainWriter,
    @Inject(PROVENANCE_READ_MODEL) private readonly readModel: ProvenanceReadModel,
    @Inject(PROVENANCE_FOLLOWER) private readonly follower: ChainFollower,
  ) {}

  /** Submits for this organization, waits for the block and for the read model to apply it; the record as it now stands. */
  private async write(type: 'provenance.masterdata.define' | 'provenance.masterdata.retire', element: Record<string, unknown>, key: string) {
    const done = await this.writer.submitAndWait(type, { elements: [element] });
    if ((await this.readModel.lastBlock()) < done.blockNumber) await this.follower.catchUp(done.blockNumber).catch(() => undefined);
    return { ...(await this.readModel.record<Record<string, unknown>>(key)), transactionId: done.transactionId, blockNumber: done.blockNumber };
  }

  // The stored record, or PROVENANCE.MASTERDATA_NOT_OWNER (403) when another organization owns it: the chain would refuse.
  private async owned(type: MasterDataType, id: string): Promise<MasterDataRecord | null> {
    const record = await this.readModel.record<MasterDataRecord>(masterDataKeyOf(type, id));
    if (record && record.organizationId !== this.writer.organizationId) {
      throw new AllianceError('PROVENANCE.MASTERDATA_NOT_OWNER', 'forbidden', `${type} ${id} is master data of ${record.organizationId}; only it changes or retires it`);
    }
    return record;
  }

  @Put(':type/:id')
  @HttpCode(200)
  @RequirePermission('provenance.masterdata.manage')
  @ApiOperation({ summary: '`{ attributes?, children? }`: defines or replaces a product, location or party of this organization (id as URN, Digital Link or bare key, URL-encoded); answers the stored record with its canonical id, version and block once committed' })
  async define(@Param('type') type: string, @Param('id') value: string, @Body() body: Record<string, unknown> | null) {
    const t = typeOf(type);
    if (body !== null && body !== undefined && (typeof body !== 'object' || Array.isArray(body))) throw new AllianceError('PROVENANCE.INVALID_MASTERDATA', 'invalid', 'the body is an object { attributes?, children? }');
    const extra = Object.keys(body ?? {}).filter((k) => k !== 'attributes' && k !== 'children');
    if (extra.length) throw new AllianceError('PROVENANCE.INVALID_MASTERDATA', 'invalid', `unexpected field(s) ${extra.join(', ')}; the body is { attributes?, children? }`);
    const element = masterDataElementOf(t, value, body ?? {});
    if (!element.ok) throw new AllianceError(element.code, 'invalid', element.detail);
    await this.owned(t, element.value.id);
    return this.write('provenance.masterdata.define', { ...element.value }, masterDataKeyOf(t, element.value.id));
  }

  @Get(':type/:id')
  @Authenticated()
  @ApiOperation({ summary: 'One product, location or party (id as URN, Digital Link or bare key, URL-encoded): owner, attributes, children, status, version, blocks' })
  async get(@Param('type') type: string, @Param('id') value: string) {
    const t = typeOf(type);
    const id = idOf(t, value);
    const record = await this.readModel.record<MasterDataRecord>(masterDataKeyOf(t, id));
    if (!record) throw new AllianceError('PROVENANCE.UNKNOWN_MASTERDATA', 'not-found', `${t} ${id} is not defined`);
    return record;
  }

  @Get(':type')
  @Authenticated()
  @ApiOperation({ summary: 'The products, locations or parties on the chain (retired ones included), in canonical id order; `perPage` (default 30, max 500), `nextPageToken` continues' })
  @ApiQuery({ name: 'perPage', required: false })
  @ApiQuery({ name: 'nextPageToken', required: false })
  async list(@Param('type') type: string, @Req() req: Request, @Res({ passthrough: true }) res: Response, @Query('perPage') perPage?: string, @Query('nextPageToken') token?: string) {
    const t = typeOf(type);
    const limit = perPage === undefined ? DEFAULT_PAGE : Number(perPage);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', `perPage must be an integer from 1 to ${MAX_PAGE}`);
    if (token !== undefined && !/^https:\/\/id\.gs1\.org\/[\x21-\x7e]{1,200}$/.test(token)) throw new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', 'nextPageToken must be the one a previous page gave');
    const prefix = masterDataPrefixOf(t);
    const rows = await this.readModel.records<MasterDataRecord>(prefix, token === undefined ? null : prefix + token, limit + 1);
    const items = rows.slice(0, limit).map((r) => r.value);
    const next = rows.length > limit ? items[items.length - 1].id : null;
    if (next) res.setHeader('Link', `<${req.baseUrl ?? ''}/provenance/v1/masterdata/${t}?perPage=${limit}&nextPageToken=${encodeURIComponent(next)}>; rel="next"`);
    return { items, ...(next ? { nextPageToken: next } : {}) };
  }

  @Delete(':type/:id')
  @HttpCode(200)
  @RequirePermission('provenance.masterdata.manage')
  @ApiOperation({ summary: 'Retires a product, location or party of this organization: the record stays, `status: retired`, with a new version' })
  async retire(@Param('type') type: string, @Param('id') value: string) {
    const t = typeOf(type);
    const id = idOf(t, value);
    const record = await this.owned(t, id);
    if (!record) throw new AllianceError('PROVENANCE.UNKNOWN_MASTERDATA', 'not-found', `${t} ${id} is not defined`);
    return this.write('provenance.masterdata.retire', { type: t, id }, masterDataKeyOf(t, id));
  }
}
