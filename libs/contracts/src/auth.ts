/**
 * The sign-in wire shapes (docs/identity.md, Sign-in): what the identity
 * service answers at `/identity/v1/auth/tokens` and `/auth/refresh`, what
 * every service's guard reads back from a token, and what the SDK returns.
 */

/** Who a request acts as. */
export interface Principal {
  readonly organizationId: string;
  /** null for an organization admin key (from the chain configuration). */
  readonly agentId: string | null;
  readonly keyId: string;
  /** An admin key acts for its organization with every permission there. */
  readonly admin: boolean;
  /** The organization's role in the consortium (manufacturer, …, regulator); `regulator` reads and never writes. */
  readonly organizationRole: string;
  /** The agent's own roles in its organization. */
  readonly roles: readonly string[];
  /** Permissions per organization it may act for: its own, and those that granted it roles. */
  readonly permissions: Readonly<Record<string, readonly string[]>>;
}

/** 200 of POST /identity/v1/auth/tokens and /auth/refresh. */
export interface TokenResponse {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  /** Seconds. */
  readonly expiresIn: number;
  /** Single use: a refresh spends it and answers the next one. */
  readonly refreshToken: string;
  /** Seconds. */
  readonly refreshExpiresIn: number;
  readonly principal: Principal;
}
