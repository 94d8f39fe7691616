import type { ReactNode } from 'react';

/** The three states every page has: loading, empty and error. */
export function Loading({ label = 'Loading…' }: { readonly label?: string }) {
  return (
    <p role="status" className="state state-loading">
      {label}
    </p>
  );
}

export function ErrorAlert({ error, children }: { readonly error?: unknown; readonly children?: ReactNode }) {
  return (
    <div role="alert" className="state state-error">
      {children ?? (error instanceof Error ? error.message : String(error))}
    </div>
  );
}

export function Empty({ children }: { readonly children: ReactNode }) {
  return <p className="state state-empty">{children}</p>;
}
