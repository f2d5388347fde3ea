import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import { type ApiClient, apiClient } from './api/client';
import { Auth, type Session } from './auth';
import type { ConsoleConfig } from './config';

export interface ConsoleState {
  readonly config: ConsoleConfig;
  readonly auth: Auth;
  readonly session: Session | null;
  readonly api: ApiClient;
  setSession(session: Session | null): void;
  signOut(): void;
}

const ConsoleContext = createContext<ConsoleState | null>(null);

export function ConsoleProvider({ config, children }: { config: ConsoleConfig; children: ReactNode }) {
  const auth = useMemo(() => new Auth(config), [config]);
  const [session, setSessionState] = useState<Session | null>(() => auth.restore());
  const setSession = useCallback((next: Session | null) => setSessionState(next), []);
  const signOut = useCallback(() => {
    auth.signOut();
    setSessionState(null);
  }, [auth]);
  // The token is read on each request, so a refreshed session is used at once.
  const tokenRef = useMemo(() => ({ current: session?.idToken }), [session]);
  const api = useMemo(
    () => apiClient(config.apiUrl, () => tokenRef.current, signOut),
    [config, tokenRef, signOut],
  );
  const value = useMemo(
    () => ({ config, auth, session, api, setSession, signOut }),
    [config, auth, session, api, setSession, signOut],
  );
  return <ConsoleContext.Provider value={value}>{children}</ConsoleContext.Provider>;
}

export function useConsole(): ConsoleState {
  const state = useContext(ConsoleContext);
  if (!state) throw new Error('useConsole outside ConsoleProvider');
  return state;
}
