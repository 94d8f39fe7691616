/** Injection tokens of the platform; services inject these, never construct them. */
export const SERVICE_CONFIG = Symbol('alliance.service-config');
export const PG_POOL = Symbol('alliance.pg-pool');
export const SERVICE_RUNTIME = Symbol('alliance.service-runtime');
