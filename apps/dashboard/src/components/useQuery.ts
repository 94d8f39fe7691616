import { useEffect, useState } from 'react';
import { type Authorize, query } from '../lib/api';

export type Loaded<T> = { readonly state: 'loading' } | { readonly state: 'error'; readonly error: unknown } | { readonly state: 'ready'; readonly value: T };

/** One GraphQL query of the page: loading, then its data or its error; aborted when the inputs change or the page goes. */
export function useQuery<T>(authorize: Authorize, document: string | null, variables: Record<string, unknown>, key: string): Loaded<T> {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    if (document === null) return;
    const abort = new AbortController();
    setResult({ state: 'loading' });
    query<T>(authorize, document, variables, abort.signal).then(
      (value) => {
        if (!abort.signal.aborted) setResult({ state: 'ready', value });
      },
      (error: unknown) => {
        if (!abort.signal.aborted) setResult({ state: 'error', error });
      },
    );
    return () => abort.abort();
    // `key` stands for the variables (a new object each render).
  }, [authorize, document, key]);
  return result;
}
