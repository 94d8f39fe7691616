import { createContext, useContext } from 'react';
import type { Client } from 'graphql-ws';
import type { Session } from '@alliance/sdk';
import type { Authorize } from './lib/api';

/** A signed-in user: the SDK session (tokens in memory only) and its one subscription client. */
export interface SignedIn {
  readonly session: Session;
  readonly authorize: Authorize;
  readonly subscriptions: Client;
}

export const SessionContext = createContext<SignedIn | null>(null);

export function useSignedIn(): SignedIn {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSignedIn outside a signed-in shell');
  return value;
}
