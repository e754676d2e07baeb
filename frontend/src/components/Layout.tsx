// The console's frame: top bar, a left nav for the account or the current project,
// and the page. The nav folds away behind a toggle in the top bar; on a narrow screen
// (a laptop's half, a tablet) it starts folded and opens over the page.
import { useEffect, useState } from 'react';
import { NavLink, Outlet, useLocation, useParams } from 'react-router';
import { useSession } from '../session';
import { Menu } from './ui';
import { ToastArea } from './toast';
import { ArrearsBanner, UnreadBadge } from './AccountStatus';

function AccountSwitcher() {
  const { me, switchAccount } = useSession();
  if (me.accounts.length < 2) {
    const current = me.accounts.find((a) => a.id === me.account_id);
    return <span className="muted small" data-testid="account-name">{current?.name}</span>;
  }
  return (
    <select
      aria-label="Account"
      value={me.account_id}
      onChange={(e) => void switchAccount(e.target.value)}
    >
      {me.accounts.map((a) => (
        <option key={a.id} value={a.id}>
          {a.name} ({a.role})
        </option>
      ))}
    </select>
  );
}

function UserMenu() {
  const { me, signOut } = useSession();
  return (
    // Named with what it shows, so speech and sight agree on what to click.
    <Menu
      label={
        <span>
          {me.display_name || me.email} <span aria-hidden="true">▾</span>
        </span>
      }
      buttonClass=""
      title={`User menu: ${me.display_name || me.email}`}
    >
      {() => (
        <>
          <div className="menu-label">{me.email}</div>
          <hr />
          <button role="menuitem" onClick={() => void signOut()}>
            Sign out
          </button>
        </>
      )}
    </Menu>
  );
}

/** Where the navigation is drawn over the page instead of beside it. */
export const NARROW = '(max-width: 900px)';

function useMedia(query: string): boolean {
  const get = () => typeof window !== 'undefined' && !!window.matchMedia?.(query).matches;
  const [matches, setMatches] = useState(get);
  useEffect(() => {
    const mq = window.matchMedia?.(query);
    if (!mq) return;
    const onChange = () => setMatches(mq.matches);
    onChange();
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, [query]);
  return matches;
}

function NavToggle({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  return (
    <button type="button" className="icon nav-toggle" aria-label="Navigation" title={open ? 'Hide the navigation' : 'Show the navigation'} aria-expanded={open} aria-controls="sidenav" onClick={onToggle}>
      <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" aria-hidden="true">
        <path d="M4 6h16M4 12h16M4 18h16" />
      </svg>
    </button>
  );
}

function TopBar({ navOpen, onToggleNav }: { navOpen: boolean; onToggleNav: () => void }) {
  return (
    <header className="topbar">
      <NavToggle open={navOpen} onToggle={onToggleNav} />
      <NavLink to="/" className="brand">
        Sluice<small>Flink console</small>
      </NavLink>
      <AccountSwitcher />
      <div className="spacer" />
      <NavLink to="/notices" title="Notices" aria-label="Notices" className="bell">
        <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
          <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
          <path d="M13.7 21a2 2 0 0 1-3.4 0" />
        </svg>
        <UnreadBadge />
      </NavLink>
      <UserMenu />
    </header>
  );
}

/** Project sections; routes.tsx maps each to a page or a "not available yet" page. */
export const PROJECT_SECTIONS: { path: string; label: string }[] = [
  { path: 'jobs', label: 'Jobs' },
  { path: 'deployments', label: 'Deployments' },
  { path: 'artifacts', label: 'Artifacts' },
  { path: 'connections', label: 'Connections' },
  { path: 'members', label: 'Members' },
  { path: 'alerts', label: 'Alerts' },
  { path: 'audit', label: 'Audit' },
];

export const ACCOUNT_SECTIONS: { path: string; label: string }[] = [
  { path: '/projects', label: 'Projects' },
  { path: '/billing', label: 'Billing' },
  { path: '/notices', label: 'Notices' },
  { path: '/audit', label: 'Audit log' },
  { path: '/channels', label: 'Notification channels' },
  { path: '/clusters', label: 'Clusters' },
];

function SideNav() {
  const { projectId } = useParams();
  return (
    <nav className="sidenav" id="sidenav" aria-label="Console">
      {projectId && (
        <>
          <div className="section">Project</div>
          {PROJECT_SECTIONS.map((s) => (
            <NavLink key={s.path} to={`/projects/${projectId}/${s.path}`}>
              {s.label}
            </NavLink>
          ))}
        </>
      )}
      <div className="section">Account</div>
      {ACCOUNT_SECTIONS.map((s) => (
        <NavLink key={s.path} to={s.path} end={s.path === '/projects'}>
          {s.label}
        </NavLink>
      ))}
    </nav>
  );
}

export function Layout() {
  const narrow = useMedia(NARROW);
  const [navOpen, setNavOpen] = useState(!narrow);
  // Crossing the breakpoint starts over: beside the page on a wide screen, folded on a narrow one.
  useEffect(() => setNavOpen(!narrow), [narrow]);
  // Over the page, the navigation has done its job once a page is chosen.
  const { pathname } = useLocation();
  useEffect(() => {
    if (narrow) setNavOpen(false);
  }, [pathname, narrow]);
  useEffect(() => {
    if (!(narrow && navOpen)) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      setNavOpen(false);
      document.querySelector<HTMLElement>('.nav-toggle')?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [narrow, navOpen]);
  return (
    <div className="app">
      <TopBar navOpen={navOpen} onToggleNav={() => setNavOpen((o) => !o)} />
      <div className={'body' + (navOpen ? '' : ' nav-closed') + (narrow ? ' narrow' : '')}>
        {navOpen && <SideNav />}
        {narrow && navOpen && <div className="nav-scrim" aria-hidden="true" onClick={() => setNavOpen(false)} />}
        <main className="main">
          <ArrearsBanner />
          <Outlet />
        </main>
      </div>
      <ToastArea />
    </div>
  );
}
