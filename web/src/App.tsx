import { lazy, type ReactNode, Suspense, useState } from 'react';
import { Link, Navigate, NavLink, Route, Routes, useMatch, useNavigate } from 'react-router';
import { apiError } from './api/client';
import { useConsole } from './console-context';
import { isPlatformAdmin, seesFinance, useMe } from './me';
import { Audit } from './pages/Audit';
import { Databases } from './pages/Databases';
import { Members } from './pages/Members';
import { Modules } from './pages/Modules';
import { PlatformTenants } from './pages/PlatformTenants';
import { Roles } from './pages/Roles';
import { Rows } from './pages/Rows';
import { Settings } from './pages/Settings';
import { SignIn } from './pages/SignIn';
import { SignUp } from './pages/SignUp';
import { Tables } from './pages/Tables';
import { TenantOverview } from './pages/TenantOverview';
import { Tenants } from './pages/Tenants';

// The chart pages load chart.js with them, in their own chunk: the other pages never pay for it.
const Finance = lazy(() => import('./pages/Finance').then((m) => ({ default: m.Finance })));
const Usage = lazy(() => import('./pages/Usage').then((m) => ({ default: m.Usage })));

export function App() {
  const { session } = useConsole();
  if (!session)
    return (
      <Shell>
        <Routes>
          <Route path="/sign-up" element={<SignUp />} />
          <Route path="*" element={<SignIn />} />
        </Routes>
      </Shell>
    );
  return (
    <Shell header={<SignedInHeader />}>
      <Routes>
        <Route path="/" element={<Navigate to="/tenants" replace />} />
        <Route path="/sign-in" element={<Navigate to="/tenants" replace />} />
        <Route path="/sign-up" element={<Navigate to="/tenants" replace />} />
        <Route path="/tenants" element={<Tenants />} />
        <Route path="/t/:tenantId" element={<TenantOverview />} />
        <Route path="/t/:tenantId/members" element={<Members />} />
        <Route path="/t/:tenantId/roles" element={<Roles />} />
        <Route path="/t/:tenantId/audit" element={<Audit />} />
        <Route path="/t/:tenantId/settings" element={<Settings />} />
        <Route path="/t/:tenantId/modules" element={<Modules />} />
        <Route path="/t/:tenantId/usage" element={<Usage />} />
        <Route path="/finance" element={<Finance />} />
        <Route path="/platform/tenants" element={<PlatformTenants />} />
        <Route path="/t/:tenantId/databases" element={<Databases />} />
        <Route path="/t/:tenantId/databases/:databaseId/tables" element={<Tables />} />
        <Route path="/t/:tenantId/databases/:databaseId/tables/:table" element={<Rows />} />
        <Route
          path="*"
          element={
            <section aria-labelledby="not-found">
              <h1 id="not-found">Not found</h1>
              <p>
                No page here. <Link to="/tenants">Your tenants</Link>
              </p>
            </section>
          }
        />
      </Routes>
    </Shell>
  );
}

function Shell({ header, children }: { header?: ReactNode; children: ReactNode }) {
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Tenantry
        </Link>
        {header}
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p aria-busy="true">Loading…</p>}>{children}</Suspense>
      </main>
    </>
  );
}

/** The tenant switcher (PUT /me/active-tenant, then a fresh token), the tenant's pages, sign-out. */
function SignedInHeader() {
  const { api, auth, session, setSession, signOut } = useConsole();
  const navigate = useNavigate();
  const [me, reloadMe] = useMe();
  const [error, setError] = useState<string>();
  const match = useMatch('/t/:tenantId/*');
  const tenantId = match?.params.tenantId;

  const switchTo = async (next: string) => {
    setError(undefined);
    const answer = await api.PUT('/me/active-tenant', { body: { tenantId: next } });
    if (!answer.response.ok) {
      setError(apiError(answer.error, answer.response.status).message);
      return;
    }
    if (session) setSession(await auth.refresh(session));
    reloadMe();
    navigate(`/t/${next}`);
  };

  const memberships = me.state === 'ready' ? me.data.memberships : [];
  const selected = tenantId ?? (me.state === 'ready' ? (me.data.activeTenantId ?? '') : '');
  return (
    <>
      {memberships.length > 0 ? (
        <div className="switcher">
          <label htmlFor="tenant-switcher">Tenant</label>
          <select id="tenant-switcher" value={selected} onChange={(event) => switchTo(event.target.value)}>
            {selected === '' ? <option value="">Choose a tenant</option> : null}
            {memberships.map((m) => (
              <option key={m.tenantId} value={m.tenantId}>
                {m.tenantName}
              </option>
            ))}
          </select>
          {error ? (
            <span role="alert" className="error">
              {error}
            </span>
          ) : null}
        </div>
      ) : null}
      <nav aria-label="Main">
        <ul>
          <li>
            <NavLink to="/tenants" end>
              Tenants
            </NavLink>
          </li>
          {tenantId ? (
            <>
              <li>
                <NavLink to={`/t/${tenantId}`} end>
                  Overview
                </NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/members`}>Members</NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/databases`}>Data</NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/roles`}>Roles</NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/settings`}>Settings</NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/modules`}>Modules</NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/usage`}>Usage</NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/audit`}>Audit</NavLink>
              </li>
            </>
          ) : null}
          {me.state === 'ready' && isPlatformAdmin(me.data) ? (
            <li>
              <NavLink to="/platform/tenants">All tenants</NavLink>
            </li>
          ) : null}
          {me.state === 'ready' && seesFinance(me.data) ? (
            <li>
              <NavLink to="/finance">Finance</NavLink>
            </li>
          ) : null}
        </ul>
      </nav>
      <div className="account">
        <span>{session?.email}</span>{' '}
        <button
          type="button"
          className="secondary"
          onClick={() => {
            signOut();
            navigate('/sign-in');
          }}
        >
          Sign out
        </button>
      </div>
    </>
  );
}
