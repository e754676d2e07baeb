// Who is signed in, in which account, and what they may do there.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, call, type Schemas } from './api/client';

export type Me = Schemas['Me'];
export type Account = Schemas['Account'];
export type ProjectRole = Schemas['ProjectRole'];

interface SessionValue {
  me: Me;
  account: Account;
  reload: () => Promise<void>;
  switchAccount: (accountId: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside <SessionProvider>');
  return v;
}

/** For tests and pages rendered outside the app shell. */
export const SessionContextProvider = SessionContext.Provider;

type State =
  | { kind: 'loading' }
  | { kind: 'signed-out' }
  | { kind: 'failed'; message: string }
  | { kind: 'signed-in'; me: Me; account: Account };

async function loadSession(): Promise<State> {
  const me = await api.GET('/me');
  if (me.response.status === 401) return { kind: 'signed-out' };
  if (!me.data) return { kind: 'failed', message: `The server answered ${me.response.status}.` };
  const account = await call(api.GET('/account'));
  return { kind: 'signed-in', me: me.data, account };
}

export function SessionProvider({
  signedOut,
  children,
}: {
  signedOut: ReactNode;
  children: ReactNode;
}) {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const reload = useCallback(async () => {
    try {
      setState(await loadSession());
    } catch (e) {
      setState({ kind: 'failed', message: e instanceof Error ? e.message : String(e) });
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);

  const switchAccount = useCallback(
    async (accountId: string) => {
      await call(api.POST('/auth/switch-account', { body: { account_id: accountId } }));
      // Everything on screen belonged to the other account.
      window.location.assign('/');
    },
    [],
  );
  const signOut = useCallback(async () => {
    const out = await api.POST('/auth/logout').catch(() => undefined);
    // Sluice's session has ended. When the identity provider has one of its own to end,
    // the browser signs out there too (it then comes back to the console's start);
    // otherwise "Sign in" would sign the same person straight back in.
    window.location.assign(out?.data?.end_session_url ?? '/');
  }, []);

  switch (state.kind) {
    case 'loading':
      return <div className="empty">Loading…</div>;
    case 'signed-out':
      return <>{signedOut}</>;
    case 'failed':
      return (
        <div className="page">
          <div className="alert error">The console could not load your session: {state.message}</div>
          <button onClick={() => void reload()}>Try again</button>
        </div>
      );
    case 'signed-in':
      return (
        <SessionContext.Provider
          value={{ me: state.me, account: state.account, reload, switchAccount, signOut }}
        >
          {children}
        </SessionContext.Provider>
      );
  }
}

const RANK: Record<ProjectRole, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

/** At least `need`: e.g. atLeast(role, 'editor') decides whether Save and Deploy show. */
export function atLeast(role: ProjectRole | undefined, need: ProjectRole): boolean {
  return role !== undefined && RANK[role] >= RANK[need];
}
