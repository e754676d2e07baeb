import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { ClustersPage } from './Clusters';
import { mockApi } from '../test/mockApi';
import { renderInProject } from '../test/providers';
import type { Schemas } from '../api/client';

const health = { status: 'healthy', checked_at: '2026-12-01T00:00:00Z', detail: 'Flink 2.3.0: 1 task manager(s), 4 of 4 slots free, 0 job(s) running' };
const cluster = (over: Partial<Schemas['Cluster']>): Schemas['Cluster'] => ({
  id: 'c1',
  name: 'platform',
  rest_url: 'http://flink:8081',
  flink_version: '2.3.0',
  engine_version: '1.0.0',
  platform: true,
  debug_sessions: true,
  health,
  created_at: '2026-12-01T00:00:00Z',
  ...over,
});
const PLATFORM = cluster({});
const OWN = cluster({ id: 'c2', name: 'own-1.20', rest_url: 'http://own:8081', flink_version: '1.20.5', platform: false, debug_sessions: false });

function server() {
  let own = OWN;
  const calls = mockApi({
    'GET /clusters': () => ({ body: [PLATFORM, own] }),
    // Only the account's own cluster changes (the platform's answers 403: it gets no switch).
    'PATCH /clusters/c2': (r) => {
      own = { ...own, ...(r.body as Schemas['UpdateCluster']) };
      return { body: own };
    },
  });
  return calls;
}

const rowOf = (name: string) => within(screen.getByTestId('clusters')).getByText(name, { selector: 'strong' }).closest('tr')!;

describe('the clusters page', () => {
  it("lets an account admin mark the account's cluster as a session cluster and back, the platform's read-only", async () => {
    const calls = server();
    renderInProject(<ClustersPage />, { path: '/clusters', pattern: '/clusters', accountRole: 'admin' });
    await screen.findByText('own-1.20');
    // Which clusters take debug runs, in the list.
    expect(within(rowOf('platform')).getByTestId('debug-sessions').textContent).toBe('Session cluster (set by the platform)');
    expect(within(rowOf('own-1.20')).getByTestId('debug-sessions').textContent).toBe('No');
    expect(within(rowOf('platform')).getByTitle(/Provided by the platform/).textContent).toBe('platform');
    expect(within(rowOf('own-1.20')).queryByTitle(/Provided by the platform/)).toBeNull();
    expect(within(rowOf('own-1.20')).getByTestId('badge').textContent).toBe('healthy');
    // The platform's flag is the configuration's: no switch for it.
    expect(within(rowOf('platform')).queryByRole('checkbox')).toBeNull();

    const box = within(rowOf('own-1.20')).getByRole('checkbox', { name: 'own-1.20 takes debug runs' }) as HTMLInputElement;
    expect(box.checked).toBe(false);
    fireEvent.click(box);
    await waitFor(() => expect(within(rowOf('own-1.20')).getByTestId('debug-sessions').textContent).toBe('Session cluster'));
    expect(box.checked).toBe(true);
    fireEvent.click(box);
    await waitFor(() => expect(within(rowOf('own-1.20')).getByTestId('debug-sessions').textContent).toBe('No'));
    expect(box.checked).toBe(false);
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => [c.path, c.body])).toEqual([
      ['/clusters/c2', { debug_sessions: true }],
      ['/clusters/c2', { debug_sessions: false }],
    ]);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it("shows a refused change in the server's words and keeps the flag as it was", async () => {
    mockApi({
      'GET /clusters': () => ({ body: [PLATFORM, OWN] }),
      'PATCH /clusters/{c}': () => ({ status: 403, body: { error: { code: 'forbidden', message: 'account admins change clusters' } } }),
    });
    renderInProject(<ClustersPage />, { path: '/clusters', pattern: '/clusters', accountRole: 'owner' });
    await screen.findByText('own-1.20');
    const box = within(rowOf('own-1.20')).getByRole('checkbox', { name: 'own-1.20 takes debug runs' }) as HTMLInputElement;
    fireEvent.click(box);
    expect((await screen.findByRole('alert')).textContent).toContain('account admins change clusters');
    expect(box.checked).toBe(false);
    expect(within(rowOf('own-1.20')).getByTestId('debug-sessions').textContent).toBe('No');
  });

  it('shows members which clusters are session clusters, with no switch', async () => {
    const calls = server();
    renderInProject(<ClustersPage />, { path: '/clusters', pattern: '/clusters', accountRole: 'member' });
    await screen.findByText('own-1.20');
    expect(screen.queryAllByRole('checkbox')).toHaveLength(0);
    expect(within(rowOf('own-1.20')).getByTestId('debug-sessions').textContent).toBe('No');
    expect(within(rowOf('platform')).getByTestId('debug-sessions').textContent).toBe('Session cluster (set by the platform)');
    expect(screen.getByText(/owners and admins mark them/)).toBeTruthy();
    expect(calls.filter((c) => c.method !== 'GET')).toHaveLength(0);
  });

  it('says when no cluster takes debug runs', async () => {
    mockApi({ 'GET /clusters': () => ({ body: [{ ...PLATFORM, debug_sessions: false }, OWN] }) });
    renderInProject(<ClustersPage />, { path: '/clusters', pattern: '/clusters', accountRole: 'admin' });
    expect((await screen.findByTestId('no-session-cluster')).textContent).toContain('mark one as a session cluster');
  });
});
