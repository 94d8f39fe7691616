import { type MouseEvent, useCallback, useMemo, useState } from 'react';
import type { Session } from '@alliance/sdk';
import { subscriptionClient } from './lib/api';
import { ROUTES, usePath } from './router';
import { SessionContext, type SignedIn } from './session';
import { AuditPage } from './pages/Audit';
import { FinancePage } from './pages/Finance';
import { NetworkPage } from './pages/Network';
import { SignInPage } from './pages/SignIn';
import { TracePage } from './pages/Trace';

export function App() {
  const [path, navigate] = usePath();
  const [signedIn, setSignedIn] = useState<SignedIn | null>(null);

  const onSignedIn = useCallback(
    (session: Session) => {
      const authorize = () => session.authorizationHeader();
      setSignedIn({ session, authorize, subscriptions: subscriptionClient(authorize) });
      if (!ROUTES.some((r) => r.path === window.location.pathname)) navigate('/network');
    },
    [navigate],
  );

  const signOut = useCallback(async () => {
    if (!signedIn) return;
    setSignedIn(null);
    await signedIn.subscriptions.dispose();
    // The refresh token is revoked at the identity service; the tokens were only ever in this page's memory.
    await signedIn.session.logout().catch(() => undefined);
    navigate('/');
  }, [signedIn, navigate]);

  if (!signedIn) return <SignInPage onSignedIn={onSignedIn} />;
  return (
    <SessionContext.Provider value={signedIn}>
      <Shell path={path} navigate={navigate} signOut={signOut} />
    </SessionContext.Provider>
  );
}

function Shell({ path, navigate, signOut }: { readonly path: string; readonly navigate: (p: string) => void; readonly signOut: () => void }) {
  const page = useMemo(() => {
    switch (path) {
      case '/trace':
        return <TracePage />;
      case '/finance':
        return <FinancePage />;
      case '/audit':
        return <AuditPage />;
      default:
        return <NetworkPage />;
    }
  }, [path]);
  const current = ROUTES.some((r) => r.path === path) ? path : '/network';
  const follow = (event: MouseEvent<HTMLAnchorElement>, to: string) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">Alliance</span>
        <nav aria-label="Main">
          <ul>
            {ROUTES.map((r) => (
              <li key={r.path}>
                <a href={r.path} aria-current={current === r.path ? 'page' : undefined} onClick={(e) => follow(e, r.path)}>
                  {r.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <SignedInAs />
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      {page}
    </>
  );
}

function SignedInAs() {
  return (
    <SessionContext.Consumer>
      {(s) =>
        s && (
          <p className="who">
            Signed in as <strong>{s.session.principal.organizationId}</strong>
            <span className="muted"> ({s.session.principal.organizationRole})</span>
          </p>
        )
      }
    </SessionContext.Consumer>
  );
}
