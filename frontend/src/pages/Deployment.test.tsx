import { describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { DeploymentPage } from './Deployment';

// uPlot draws on a canvas jsdom does not have; the metrics are not what is tested here.
vi.mock('../components/Chart', () => ({ Chart: ({ title }: { title: string }) => <div data-testid="chart">{title}</div> }));
import { mockApi, type Recorded } from '../test/mockApi';
import { renderInProject } from '../test/providers';
import { formatTime } from '../lib/dates';
import type { Schemas } from '../api/client';

const AT = '2026-12-06T00:00:00Z';

const deployment = (over: Partial<Schemas['Deployment']> = {}): Schemas['Deployment'] => ({
  id: 'd1',
  project_id: 'p1',
  job_id: 'j1',
  job_version: 2,
  name: 'clicks-prod',
  cluster_id: 'c1',
  parallelism: 1,
  cu_per_task: 1,
  total_cu: 1,
  dependencies: [],
  desired_state: 'RUNNING',
  status: 'RUNNING',
  restore_mode: 'LATEST_STATE',
  restart_count: 0,
  engine_restarts: 0,
  submission_pending: false,
  created_at: AT,
  updated_at: AT,
  ...over,
});

const CLUSTER: Schemas['Cluster'] = {
  id: 'c1',
  name: 'platform',
  rest_url: 'http://flink:8081',
  flink_version: '2.3.0',
  engine_version: '1.0.0',
  platform: true,
  debug_sessions: true,
  health: { status: 'healthy', checked_at: AT, detail: 'Flink 2.3.0: 1 task manager(s), 3 of 4 slots free, 1 job(s) running' },
  created_at: AT,
};

const DRAFT_SQL = 'INSERT INTO snk SELECT n * 3 FROM src; -- the draft, in no version';
const V2_SQL = 'INSERT INTO snk SELECT n FROM src;';

const savepoint = (id: string, over: Partial<Schemas['Savepoint']>): Schemas['Savepoint'] => ({
  id,
  engine_job_id: 'e1',
  origin: 'USER_REQUEST',
  state: 'COMPLETED',
  created_at: AT,
  completed_at: AT,
  location: null,
  size_bytes: null,
  ...over,
});

function server({
  dep = deployment(),
  cluster = CLUSTER,
  savepoints = [],
  exceptions = [],
  metrics = [],
}: {
  dep?: Schemas['Deployment'];
  cluster?: Schemas['Cluster'];
  savepoints?: Schemas['Savepoint'][];
  exceptions?: Schemas['JobExceptionView'][];
  metrics?: Schemas['MetricsPoint'][];
} = {}): Recorded[] {
  return mockApi({
    'GET /projects/{p}/deployments/{d}': () => ({ body: dep }),
    'GET /projects/{p}/deployments/{d}/savepoints': () => ({ body: { items: savepoints, next_cursor: null } }),
    'GET /projects/{p}/deployments/{d}/events': () => ({ body: { items: [], next_cursor: null } }),
    'GET /projects/{p}/deployments/{d}/metrics': () => ({ body: metrics }),
    'GET /projects/{p}/deployments/{d}/exceptions': () => ({ body: exceptions }),
    'POST /projects/{p}/deployments/{d}/start': () => ({ status: 202, body: dep }),
    'GET /projects/{p}/jobs/{j}': () => ({
      body: { id: 'j1', project_id: 'p1', folder_id: null, name: 'clicks', content: { kind: 'sql', sql: DRAFT_SQL }, revision: 9, last_version: 3, created_at: AT, updated_at: AT },
    }),
    'GET /projects/{p}/jobs/{j}/versions/{v}': (r) => ({
      body: { job_id: 'j1', version: Number(r.path.split('/').pop()), message: 'count every click', content: { kind: 'sql', sql: V2_SQL }, created_by: 'u1', created_at: AT },
    }),
    'GET /clusters/{c}': () => ({ body: cluster }),
  });
}

function renderPage() {
  return renderInProject(<DeploymentPage />, { path: '/projects/p1/deployments/d1', pattern: '/projects/:projectId/deployments/:deploymentId' });
}

describe('a stuck deployment says why', () => {
  it("shows the engine's restarts and last failure, and its cluster's health", async () => {
    server({
      dep: deployment({ status: 'TRANSITIONING', engine_restarts: 11, last_engine_failure: 'Could not acquire the minimum required resources.' }),
      cluster: { ...CLUSTER, health: { status: 'unhealthy', checked_at: AT, detail: 'Flink 2.3.0: 0 task manager(s), 0 of 0 slots free' } },
    });
    renderPage();
    const trouble = await screen.findByTestId('engine-trouble');
    expect(trouble.textContent).toBe('The engine has restarted this job 11 times and it is not running. Last failure: Could not acquire the minimum required resources.');
    // The spinner says it too, instead of a bare "changing state".
    expect(screen.getByRole('status').textContent).toContain('Restarting on the engine (11 restarts so far)');
    const unhealthy = await screen.findByTestId('cluster-unhealthy');
    expect(unhealthy.textContent).toContain('Its cluster platform is unhealthy: Flink 2.3.0: 0 task manager(s), 0 of 0 slots free');
    const health = screen.getByTestId('cluster-health');
    expect(within(health).getByTestId('badge').textContent).toBe('unhealthy');
  });

  it('says nothing of trouble for a running deployment on a healthy cluster, and shows the health', async () => {
    server({ dep: deployment({ engine_restarts: 1, last_engine_failure: 'a blip' }) });
    renderPage();
    const health = await screen.findByTestId('cluster-health');
    expect(health.textContent).toContain('3 of 4 slots free');
    expect(screen.queryByTestId('engine-trouble')).toBeNull();
    expect(screen.queryByTestId('cluster-unhealthy')).toBeNull();
  });

  it('lists an exception by its root cause, the wrapper and trace folded under it', async () => {
    server({
      exceptions: [
        {
          exception_name: 'java.util.concurrent.CompletionException: org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException',
          root_cause: 'org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources.',
          stacktrace:
            'java.util.concurrent.CompletionException: ...\n\tat java.base/java.util.concurrent.CompletableFuture.encodeThrowable\nCaused by: org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources.',
          timestamp: AT,
        },
      ],
    });
    renderPage();
    fireEvent.click(await screen.findByRole('tab', { name: 'Exceptions' }));
    const ex = await screen.findByTestId('exception');
    // First, in the open: the deepest cause.
    expect(ex.firstElementChild!.textContent).toBe('org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources.');
    expect(ex.textContent).toContain('thrown as java.util.concurrent.CompletionException');
    // The trace is there, folded.
    const trace = ex.querySelector('details')!;
    expect(trace.open).toBe(false);
    expect(trace.querySelector('summary')!.textContent).toBe('Stack trace');
    expect(trace.textContent).toContain('at java.base/java.util.concurrent.CompletableFuture');
  });
});

describe('starting from a savepoint', () => {
  it('lists savepoints newest first by kind, time and id, never their location, and preselects the newest completed', async () => {
    // As the API lists them: oldest first.
    const calls = server({
      dep: deployment({ status: 'SUSPENDED', desired_state: 'SUSPENDED' }),
      savepoints: [
        savepoint('0193a000-0000-7000-8000-00000000aaa1', { origin: 'USER_REQUEST', created_at: '2026-12-05T10:00:00Z', completed_at: '2026-12-05T10:00:02Z', location: 'file:///var/lib/flink/savepoints/savepoint-aaa1' }),
        savepoint('0193a000-0000-7000-8000-00000000bbb2', { origin: 'SUSPEND_AND_UPGRADE', created_at: '2026-12-05T11:00:00Z', completed_at: '2026-12-05T11:00:03Z' }),
        savepoint('0193a000-0000-7000-8000-00000000ccc3', { origin: 'SUSPEND', created_at: '2026-12-05T12:00:00Z', completed_at: '2026-12-05T12:00:04Z', size_bytes: 4613 }),
        savepoint('0193a000-0000-7000-8000-00000000ddd4', { origin: 'USER_REQUEST', state: 'FAILED', created_at: '2026-12-05T13:00:00Z', completed_at: null, failure: 'timed out' }),
      ],
    });
    renderPage();
    await screen.findByTestId('deployment-status');
    // The first page of savepoints has loaded (resuming is the default then).
    await waitFor(() => expect(calls.some((c) => c.path === '/projects/p1/deployments/d1/savepoints')).toBe(true));
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('Start mode'), { target: { value: 'FROM_SAVEPOINT' } });
    const chooser = within(dialog).getByLabelText('Savepoint') as HTMLSelectElement;
    await waitFor(() => expect(chooser.options).toHaveLength(4));
    const options = [...chooser.options];
    expect(options.map((o) => o.textContent!.split(' · ').map((part, i) => (i === 1 ? 'TIME' : part)).join(' · '))).toEqual([
      'manual · TIME · #0000ddd4 · failed',
      'on stop · TIME · 4.5 KiB · #0000ccc3',
      'upgrade · TIME · #0000bbb2',
      'manual · TIME · #0000aaa1',
    ]);
    // When it was taken: completed, or asked for when it never completed.
    expect(options.map((o) => o.textContent!.split(' · ')[1])).toEqual(
      ['2026-12-05T13:00:00Z', '2026-12-05T12:00:04Z', '2026-12-05T11:00:03Z', '2026-12-05T10:00:02Z'].map((t) => formatTime(t)),
    );
    expect(options[0]!.disabled).toBe(true);
    expect(chooser.value).toBe('0193a000-0000-7000-8000-00000000ccc3');
    expect(dialog.textContent).not.toContain('file://');
    expect(dialog.textContent).not.toContain('/var/lib');

    fireEvent.click(within(dialog).getByRole('button', { name: 'Start' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).toMatchObject({ restore_mode: 'FROM_SAVEPOINT', savepoint_id: '0193a000-0000-7000-8000-00000000ccc3' });
  });
});

describe('what a deployment runs', () => {
  it('names its job and links to the version it runs, which shows that version, not the draft', async () => {
    const calls = server();
    renderPage();
    const runs = await screen.findByTestId('deployment-runs');
    await waitFor(() => expect(runs.textContent).toBe('Runs v2 of job clicks'));
    expect(within(runs).getByRole('link', { name: 'clicks' }).getAttribute('href')).toBe('/projects/p1/jobs/j1');
    const version = within(runs).getByRole('link', { name: 'v2' });
    expect(version.getAttribute('href')).toBe('/projects/p1/deployments/d1?version=2');

    fireEvent.click(version);
    const dialog = await screen.findByRole('dialog', { name: 'clicks v2' });
    const content = await within(dialog).findByTestId('version-content');
    expect(content.textContent).toContain(V2_SQL);
    expect(content.textContent).toContain('The version this deployment runs');
    expect(content.textContent).not.toContain('the draft, in no version');
    expect(calls.some((c) => c.path === '/projects/p1/jobs/j1/versions/2')).toBe(true);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });
});

describe('throughput', () => {
  const point = (throughput_reported: boolean): Schemas['MetricsPoint'] => ({
    at: AT,
    resolution_secs: 0,
    records_in_per_sec: 0,
    records_out_per_sec: 0,
    backpressure_ratio: 0,
    busy_ratio: 0,
    checkpoints_completed: 0,
    checkpoints_failed: 0,
    throughput_reported,
  });

  it('says when part of the job reports no record counts to the engine', async () => {
    server({ metrics: [point(true), point(false)] });
    renderPage();
    const note = await screen.findByTestId('throughput-unreported');
    expect(note.textContent).toContain('report no record counts to the engine: records per second leave out');
  });

  it('says nothing when the engine reports every source and sink', async () => {
    server({ metrics: [point(false), point(true)] });
    renderPage();
    await screen.findAllByTestId('chart');
    await waitFor(() => expect(screen.getAllByTestId('chart')[0]?.textContent).toBe('Records per second'));
    expect(screen.queryByTestId('throughput-unreported')).toBeNull();
  });
});
