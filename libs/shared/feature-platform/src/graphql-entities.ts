import { Directive, Field, ObjectType } from '@nestjs/graphql';

/*
 * Apollo Federation entities that more than one subgraph names, one class
 * each for every service. Nest keeps the code-first GraphQL types in
 * process-wide storage, so two classes of one type name cannot be loaded
 * together — and the integration tests run several services in one process.
 * The subgraphs differ in the fields their own resolvers add to the entity
 * (@ResolveField), not in the class: the key fields are all it declares.
 */

/**
 * A device-identified asset by its device and the custody item it identifies.
 * The provenance subgraph resolves it (usage from the device's readings,
 * location from the item's EPCIS events: docs/provenance.md); finance's
 * FinanceLease.telemetry points at it (docs/finance.md, Equipment leases).
 */
@ObjectType({ description: 'Usage (the device’s readings) and location (the item’s EPCIS events) of a device-identified asset, resolved by the provenance subgraph' })
@Directive('@key(fields: "deviceId item")')
export class AssetTelemetry {
  @Field({ description: 'The device’s stored id (urn:epc:id:giai:… or did:…)' })
  deviceId!: string;

  @Field(() => String, { nullable: true, description: 'The custody item it identifies (canonical GS1 Digital Link), or null' })
  item!: string | null;
}
