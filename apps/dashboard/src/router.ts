import { useCallback, useEffect, useState } from 'react';

/** The dashboard's few client routes; the gateway answers each with index.html. */
export const ROUTES = [
  { path: '/network', label: 'Network' },
  { path: '/trace', label: 'Trace' },
  { path: '/finance', label: 'Finance' },
  { path: '/audit', label: 'Audit' },
] as const;

export function usePath(): [string, (path: string) => void] {
  const [path, setPath] = useState(() => window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((next: string) => {
    if (next !== window.location.pathname) window.history.pushState(null, '', next);
    setPath(next);
  }, []);
  return [path, navigate];
}
