import type { ContractHandler } from './types';

/** The transaction handlers a node runs, by type. Later issues register theirs at start-up. */
export class ContractRegistry {
  private readonly handlers = new Map<string, ContractHandler>();

  constructor(handlers: readonly ContractHandler[] = []) {
    for (const h of handlers) this.register(h);
  }

  register(handler: ContractHandler): this {
    if (!/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/.test(handler.type)) throw new Error(`contract type "${handler.type}" must look like scope.name`);
    if (this.handlers.has(handler.type)) throw new Error(`contract type "${handler.type}" is registered twice`);
    this.handlers.set(handler.type, handler);
    return this;
  }

  find(type: string): ContractHandler | undefined {
    return this.handlers.get(type);
  }

  isConfiguration(type: string): boolean {
    return this.handlers.get(type)?.configuration === true;
  }

  types(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
