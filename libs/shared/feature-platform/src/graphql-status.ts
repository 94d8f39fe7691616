import { Directive, Field, GraphQLISODateTime, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { Inject, type Type } from '@nestjs/common';
import { SERVICE_RUNTIME } from './tokens';
import { Public } from './access';
import type { ServiceRuntime } from './runtime';

/** Shared by every subgraph (hence @shareable), so a dashboard sees one type. */
@ObjectType({ description: 'A running Alliance service' })
@Directive('@shareable')
export class ServiceStatus {
  @Field({ description: 'Service name, e.g. ledger' })
  name!: string;

  @Field()
  version!: string;

  @Field({ description: 'Member organization that runs this instance' })
  organizationId!: string;

  @Field(() => GraphQLISODateTime)
  startedAt!: Date;
}

/** Builds the resolver of `<service>Status`, one root field per subgraph so names never clash. */
export function statusResolverFor(service: string): Type<unknown> {
  @Resolver(() => ServiceStatus)
  @Public('which service answers: no data')
  class StatusResolver {
    constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime) {}

    @Query(() => ServiceStatus, { name: `${service}Status`, description: `Status of the ${service} service` })
    status(): ServiceStatus {
      return { name: this.runtime.name, version: this.runtime.version, organizationId: this.runtime.config.ORG_ID, startedAt: this.runtime.startedAt };
    }
  }
  Object.defineProperty(StatusResolver, 'name', { value: `${service[0].toUpperCase()}${service.slice(1)}StatusResolver` });
  return StatusResolver;
}
