import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { DeployDialog } from './DeployDialog';
import { mockApi, type Recorded } from '../test/mockApi';
import type { Schemas } from '../api/client';

const job: Schemas['Job'] = {
  id: 'j1', project_id: 'p1', folder_id: null, name: 'clicks', content: { kind: 'sql', sql: 'x' },
  revision: 1, last_version: 2, created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z',
};

const CLUSTERS = [
  { id: 'c1', name: 'platform', rest_url: 'http://x', flink_version: '2.3.0', engine_version: '1.0.0', platform: true, health: { status: 'healthy', checked_at: null, detail: null }, created_at: job.created_at },
  { id: 'c2', name: 'own', rest_url: 'http://y', flink_version: '2.3.0', engine_version: '1.0.0', platform: false, health: { status: 'healthy', checked_at: null, detail: null }, created_at: job.created_at },
];

type Answer = { status?: number; body: unknown };

function deployment(over: Partial<Schemas['Deployment']>): Schemas['Deployment'] {
  return {
    id: 'd1', project_id: 'p1', job_id: 'j1', job_version: 1, name: 'clicks', cluster_id: 'c1', parallelism: 1, cu_per_task: 1, total_cu: 1,
    dependencies: [], desired_state: 'RUNNING', status: 'RUNNING', restore_mode: 'NONE', restart_count: 0, engine_restarts: 0,
    submission_pending: false, created_at: job.created_at, updated_at: job.created_at, ...over,
  };
}

function server(
  create?: (r: Recorded) => Answer,
  { existing = [], engines, clusters = CLUSTERS, defaultCluster = null, more = {} }: {
    existing?: Schemas['Deployment'][];
    engines?: unknown[];
    clusters?: typeof CLUSTERS;
    defaultCluster?: string | null;
    more?: Parameters<typeof mockApi>[0];
  } = {},
): Recorded[] {
  return mockApi({
    ...more,
    'GET /projects/{p}/deployments': () => ({ body: { items: existing, next_cursor: null } }),
    'GET /projects/{p}/artifacts': () => ({
      body: {
        items: [
          { id: 'a1', project_id: 'p1', name: 'json-lib.jar', kind: 'jar', size_bytes: 4096, sha256: 'ab'.repeat(32), created_at: job.created_at },
          { id: 'a2', project_id: 'p1', name: 'tools.py', kind: 'py', size_bytes: 100, sha256: 'cd'.repeat(32), created_at: job.created_at },
          { id: 'a3', project_id: 'p1', name: 'udfs.jar', kind: 'jar', size_bytes: 2048, sha256: 'ef'.repeat(32), created_at: job.created_at },
        ],
      },
    }),
    'GET /projects/{p}/jobs/{j}/versions': () => ({
      body: { items: [2, 1].map((n) => ({ job_id: 'j1', version: n, message: '', content: job.content, created_by: 'u', created_at: job.created_at })) },
    }),
    'GET /clusters': () => ({ body: clusters }),
    'GET /engine-versions': () => ({
      body: engines ?? [{ label: '1.0.0', flink_version: '2.3.0', stage: 'EOFS', ga: '2026-01-01T00:00:00Z', eogs: '2026-07-01T00:00:00Z', eofs: '2026-10-01T00:00:00Z', eos: '2027-01-01T00:00:00Z', pulled: false, upgrade_to: '1.0.3', upgrade_needs_review: false }],
    }),
    'GET /projects/{p}': () => ({
      body: { id: 'p1', name: 'p', description: '', default_cluster_id: defaultCluster, created_at: job.created_at, updated_at: job.created_at, limits: {}, usage: { jobs: 1, folders: 0, connections: 0, artifacts: 0 } },
    }),
    'POST /projects/{p}/deployments/cost-preview': (r) => {
      const b = r.body as { parallelism: number; cu_per_task: number };
      if (b.parallelism > 64) return { status: 422, body: { error: { code: 'invalid_field', message: `parallelism must be between 1 and 64, got ${b.parallelism}`, field: 'parallelism' } } };
      const cu = b.parallelism * b.cu_per_task;
      return { body: { billing_model: 'payg', total_cu: cu, hourly_compute: (cu * 0.09).toFixed(2), hourly_management: '0.18', hourly_total: (cu * 0.09 + 0.18).toFixed(2), currency: 'CNY', purchased_cu: null, cu_in_use: null, fits: true } };
    },
    'POST /projects/{p}/deployments': (r) =>
      create?.(r) ?? {
        status: 422,
        body: { error: { code: 'invalid_field', message: 'parallelism must be between 1 and 64, got 65', field: 'parallelism' } },
      },
  });
}

function renderDialog() {
  const router = createMemoryRouter([{ path: '*', element: <DeployDialog projectId="p1" job={job} onClose={() => {}} /> }]);
  render(<RouterProvider router={router} />);
  return router;
}

/** The error shown for a form control, by its aria-describedby, and the label of the field it sits in. */
function errorOf(control: HTMLElement): { text: string; field: string } | undefined {
  if (control.getAttribute('aria-invalid') !== 'true') return undefined;
  const err = document.getElementById(control.getAttribute('aria-describedby')!)!;
  return { text: err.textContent!, field: err.closest('.field')!.querySelector('label')!.textContent! };
}

describe('the deploy dialog', () => {
  it('prices the chosen size and shows the engine version lifecycle', async () => {
    const calls = server();
    renderDialog();
    await screen.findByRole('option', { name: /v2/ });
    fireEvent.change(screen.getByLabelText('Parallelism'), { target: { value: '4' } });
    fireEvent.change(screen.getByLabelText('CU per task'), { target: { value: '0.5' } });
    await waitFor(() => expect(screen.getByTestId('cost-preview').textContent).toContain('0.36 CNY'));
    const previews = calls.filter((c) => c.path === '/projects/p1/deployments/cost-preview');
    expect(previews.at(-1)!.body).toEqual({ parallelism: 4, cu_per_task: 0.5 });
    // Debounced: typing two fields does not ask for every keystroke's value.
    expect(previews.length).toBeLessThanOrEqual(2);
    const stage = screen.getByTestId('engine-stage');
    expect(stage.textContent).toContain('EOFS');
    expect(stage.textContent).toContain('Upgrade to 1.0.3');
  });

  it('shows the API field error next to its field', async () => {
    const calls = server(() => ({
      status: 409,
      body: { error: { code: 'conflict', message: 'a deployment named clicks already exists in this project', field: 'name' } },
    }));
    renderDialog();
    await screen.findByRole('option', { name: /v2/ });
    fireEvent.change(screen.getByLabelText('Parallelism'), { target: { value: '4' } });
    fireEvent.click(screen.getByRole('button', { name: 'Deploy and start' }));
    const input = screen.getByLabelText('Deployment name');
    await waitFor(() => expect(input.getAttribute('aria-invalid')).toBe('true'));
    // Inside the name's field, not at the bottom of the form.
    expect(errorOf(input)).toEqual({ text: 'a deployment named clicks already exists in this project', field: 'Deployment name' });
    expect(screen.getAllByRole('alert')).toHaveLength(1);
    const create = calls.find((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')!;
    expect(create.body).toMatchObject({ job_id: 'j1', version: 2, cluster_id: 'c1', parallelism: 4, cu_per_task: 1 });
  });

  it('shows the engine version and its Flink version without a lifecycle where none is published', async () => {
    server(undefined, { engines: [] });
    renderDialog();
    await screen.findByRole('option', { name: /v2/ });
    const engine = screen.getByLabelText('Engine version') as HTMLSelectElement;
    expect([...engine.options].map((o) => o.textContent)).toEqual(['1.0.0 · Flink 2.3.0']);
    expect(document.body.textContent).not.toMatch(/no schedule|No lifecycle/);
    expect(screen.queryByTestId('engine-stage')).toBeNull();
  });

  it("shows every field's mistake at once, each under its field, and an edited field drops its own", async () => {
    const calls = server();
    renderDialog();
    await screen.findByRole('option', { name: /v2/ });
    const name = screen.getByLabelText('Deployment name');
    const parallelism = screen.getByLabelText('Parallelism');
    const cu = screen.getByLabelText('CU per task');
    fireEvent.change(name, { target: { value: '  ' } });
    fireEvent.change(parallelism, { target: { value: '0' } });
    fireEvent.change(cu, { target: { value: '0.3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Deploy and start' }));
    await waitFor(() => expect(errorOf(cu)).toBeDefined());
    expect(errorOf(name)).toEqual({ text: 'Name the deployment.', field: 'Deployment name' });
    expect(errorOf(parallelism)).toEqual({ text: '0 is not a whole number from 1 to 64.', field: 'Parallelism' });
    expect(errorOf(cu)).toEqual({ text: '0.3 is not a multiple of 0.25 from 0.25 to 16.', field: 'CU per task' });
    // Nothing was sent: every mistake is known before asking.
    expect(calls.some((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')).toBe(false);

    // Cleared, a field is no longer wrong for what it held; the others still are.
    fireEvent.change(parallelism, { target: { value: '' } });
    expect(errorOf(parallelism)).toBeUndefined();
    expect(errorOf(name)?.text).toBe('Name the deployment.');
    fireEvent.change(name, { target: { value: 'clicks' } });
    expect(errorOf(name)).toBeUndefined();
    expect(errorOf(cu)?.text).toBe('0.3 is not a multiple of 0.25 from 0.25 to 16.');
  });

  it('deploys on Enter in a text or a number field, as its main button does', async () => {
    const calls = server((r) => ({ status: 201, body: deployment({ id: 'd9', ...(r.body as object) }) }), {
      more: { 'POST /projects/{p}/deployments/{d}/start': () => ({ status: 202, body: deployment({ id: 'd9' }) }) },
    });
    const user = userEvent.setup({ delay: null });
    const router = renderDialog();
    await screen.findByRole('option', { name: /v2/ });
    await user.clear(screen.getByLabelText('Parallelism'));
    await user.type(screen.getByLabelText('Parallelism'), '4{Enter}');
    await waitFor(() => expect(router.state.location.pathname).toBe('/projects/p1/deployments/d9'));
    const writes = calls.filter((c) => c.method === 'POST' && !c.path.endsWith('/cost-preview'));
    expect(writes.map((c) => [c.path, c.body])).toEqual([
      ['/projects/p1/deployments', { name: 'clicks', job_id: 'j1', version: 2, cluster_id: 'c1', parallelism: 4, cu_per_task: 1 }],
      ['/projects/p1/deployments/d9/start', { restore_mode: 'NONE' }],
    ]);
  });

  it('deploys on Enter in the name field, under the name typed', async () => {
    const calls = server((r) => ({ status: 201, body: deployment({ id: 'd9', ...(r.body as object) }) }), {
      more: { 'POST /projects/{p}/deployments/{d}/start': () => ({ status: 202, body: deployment({ id: 'd9' }) }) },
    });
    const user = userEvent.setup({ delay: null });
    renderDialog();
    await screen.findByRole('option', { name: /v2/ });
    await user.clear(screen.getByLabelText('Deployment name'));
    await user.type(screen.getByLabelText('Deployment name'), 'clicks-eu{Enter}');
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')).toBe(true));
    expect(calls.find((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')!.body).toMatchObject({ name: 'clicks-eu', job_id: 'j1', version: 2 });
  });

  it("drops the price's refusal of a size once the field is cleared", async () => {
    server();
    renderDialog();
    await screen.findByRole('option', { name: /v2/ });
    const parallelism = screen.getByLabelText('Parallelism');
    fireEvent.change(parallelism, { target: { value: '65' } });
    await waitFor(() => expect(errorOf(parallelism)?.text).toBe('parallelism must be between 1 and 64, got 65'));
    fireEvent.change(parallelism, { target: { value: '' } });
    await waitFor(() => expect(errorOf(parallelism)).toBeUndefined());
    expect(screen.queryAllByRole('alert')).toHaveLength(0);
  });

  it('says what a cluster whose health was never checked means, and checks it on request', async () => {
    const unknown = CLUSTERS.map((c) => (c.id === 'c2' ? { ...c, health: { status: 'unknown', checked_at: null, detail: null } } : c));
    const calls = server(undefined, {
      clusters: unknown,
      defaultCluster: 'c2',
      more: {
        'POST /clusters/{c}/health-check': () => ({
          body: { ...unknown[1], health: { status: 'healthy', checked_at: '2026-12-06T00:00:00Z', detail: '1 task manager, 4 free slots' } },
        }),
      },
    });
    renderDialog();
    const cluster = (await screen.findByLabelText('Engine cluster')) as HTMLSelectElement;
    await waitFor(() => expect(cluster.value).toBe('c2'));
    expect(cluster.selectedOptions[0]!.textContent).toBe('own · health never checked');
    const note = screen.getByTestId('cluster-health-note');
    expect(note.textContent).toContain('Sluice has never checked this cluster');
    // Inside the cluster's field.
    expect(note.closest('.field')!.querySelector('label')!.textContent).toBe('Engine cluster');

    fireEvent.click(within(note).getByRole('button', { name: 'Check now' }));
    await waitFor(() => expect(cluster.selectedOptions[0]!.textContent).toBe('own · healthy'));
    expect(screen.queryByTestId('cluster-health-note')).toBeNull();
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.path)).toContain('/clusters/c2/health-check');
  });
});

describe('deploying a job that has deployments', () => {
  it('offers to upgrade the running deployment to the version first, and upgrades it', async () => {
    const calls = server(undefined, {
      existing: [deployment({ id: 'd1', name: 'clicks', job_version: 1 })],
      more: { 'POST /projects/{p}/deployments/{d}/upgrade': () => ({ status: 202, body: deployment({ id: 'd1', pending_version: 2 }) }) },
    });
    const router = renderDialog();
    const target = await screen.findByRole('group', { name: 'This job is deployed already' });
    const upgrade = within(target).getByRole('radio', { name: /Upgrade clicks to this version/ }) as HTMLInputElement;
    await waitFor(() => expect(upgrade.checked).toBe(true));
    expect(upgrade.closest('label')!.textContent).toContain('runs v1 now');
    // Only the version is asked for: the deployment keeps its cluster and size.
    expect(screen.queryByLabelText('Deployment name')).toBeNull();
    expect(screen.queryByLabelText('Parallelism')).toBeNull();
    expect((screen.getByLabelText('Version') as HTMLSelectElement).value).toBe('2');

    fireEvent.click(screen.getByRole('button', { name: 'Upgrade clicks' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/projects/p1/deployments/d1'));
    const writes = calls.filter((c) => c.method === 'POST' && !c.path.endsWith('/cost-preview'));
    expect(writes.map((c) => [c.path, c.body])).toEqual([['/projects/p1/deployments/d1/upgrade', { version: 2 }]]);
    expect(calls.find((c) => c.path === '/projects/p1/deployments' && c.method === 'GET')!.search).toContain('job_id=j1');
  });

  it('does not offer an upgrade to the version the deployment runs', async () => {
    server(undefined, { existing: [deployment({ id: 'd1', name: 'clicks', job_version: 2 })] });
    renderDialog();
    await screen.findByRole('button', { name: 'Upgrade clicks' });
    const version = screen.getByLabelText('Version') as HTMLSelectElement;
    expect(version.value).toBe('2');
    expect(errorOf(version)?.text).toBe('clicks runs v2 already: choose another version, or create a second deployment.');
    expect((screen.getByRole('button', { name: 'Upgrade clicks' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(version, { target: { value: '1' } });
    expect((screen.getByRole('button', { name: 'Upgrade clicks' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('creates a second deployment only when chosen, under a name of its own', async () => {
    const calls = server((r) => ({ status: 201, body: deployment({ id: 'd3', ...(r.body as object) }) }), {
      existing: [deployment({ id: 'd1', name: 'clicks' }), deployment({ id: 'd2', name: 'clicks-2', status: 'SUSPENDED', desired_state: 'SUSPENDED' })],
    });
    renderDialog();
    const target = await screen.findByRole('group', { name: 'This job is deployed already' });
    // The stopped one is named, with why it is not offered, and a way to it.
    expect(within(target).getByRole('link', { name: 'clicks-2' }).getAttribute('href')).toBe('/projects/p1/deployments/d2');
    expect(target.textContent).toContain('stopped: started again it runs v1');
    await waitFor(() => expect((within(target).getByRole('radio', { name: /Upgrade clicks/ }) as HTMLInputElement).checked).toBe(true));

    fireEvent.click(within(target).getByRole('radio', { name: /Create a second deployment/ }));
    expect((screen.getByLabelText('Deployment name') as HTMLInputElement).value).toBe('clicks-3');
    fireEvent.click(screen.getByRole('button', { name: 'Create a second deployment and start' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')).toBe(true));
    expect(calls.find((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')!.body).toMatchObject({ name: 'clicks-3', job_id: 'j1', version: 2 });
    expect(calls.some((c) => c.path.endsWith('/upgrade'))).toBe(false);
  });

  it('with only stopped deployments, says so and makes creating another the named choice', async () => {
    server(undefined, { existing: [deployment({ id: 'd1', name: 'clicks', status: 'CANCELLED', desired_state: 'CANCELLED' })] });
    renderDialog();
    const target = await screen.findByRole('group', { name: 'This job is deployed already' });
    await waitFor(() => expect((within(target).getByRole('radio', { name: /Create a second deployment/ }) as HTMLInputElement).checked).toBe(true));
    expect(within(target).queryByRole('radio', { name: /Upgrade/ })).toBeNull();
    expect(screen.getByRole('button', { name: 'Create a second deployment and start' })).toBeTruthy();
  });
});

describe('dependencies in the deploy dialog', () => {
  it('offers the JAR artifacts, sends the chosen ones, and takes the platform cluster out of the choice', async () => {
    const calls = server((r) => ({ status: 201, body: { id: 'd1', name: 'clicks', ...(r.body as object) } }));
    renderDialog();
    const deps = await screen.findByRole('group', { name: 'Dependencies (optional)' });
    // JARs only: a Python file is no classpath entry.
    await within(deps).findByRole('checkbox', { name: /json-lib\.jar/ });
    expect(within(deps).getAllByRole('checkbox').map((c) => c.closest('label')!.textContent)).toEqual(['json-lib.jar 4.0 KiB', 'udfs.jar 2.0 KiB']);

    const cluster = screen.getByLabelText('Engine cluster') as HTMLSelectElement;
    const platform = within(cluster).getByRole('option', { name: /^platform/ }) as HTMLOptionElement;
    expect(platform.disabled).toBe(false);
    // Without dependencies the platform cluster is the default and is offered.
    expect(cluster.value).toBe('c1');

    fireEvent.click(within(deps).getByRole('checkbox', { name: /udfs\.jar/ }));
    expect(platform.disabled).toBe(true);
    expect(platform.textContent).toContain('platform (runs no custom code)');
    const hint = cluster.closest('.field')!.querySelector('.field-hint')!;
    expect(hint.textContent).toContain('the shared platform cluster runs no custom code');

    fireEvent.change(cluster, { target: { value: 'c2' } });
    fireEvent.click(screen.getByLabelText('Start as soon as it is created'));
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')).toBe(true));
    const create = calls.find((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')!;
    expect(create.body).toMatchObject({ job_id: 'j1', cluster_id: 'c2', dependencies: ['a3'] });
  });

  it('sends no dependencies when none are chosen, and offers the platform cluster again once they are unchecked', async () => {
    const calls = server();
    renderDialog();
    const deps = await screen.findByRole('group', { name: 'Dependencies (optional)' });
    const jar = await within(deps).findByRole('checkbox', { name: /json-lib\.jar/ });
    const platform = within(screen.getByLabelText('Engine cluster')).getByRole('option', { name: /^platform/ }) as HTMLOptionElement;
    fireEvent.click(jar);
    expect(platform.disabled).toBe(true);
    fireEvent.click(jar);
    expect(platform.disabled).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Deploy and start' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')).toBe(true));
    expect(calls.find((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')!.body).not.toHaveProperty('dependencies');
  });

  it("shows the API's refusal of a dependency at the dependencies", async () => {
    server(() => ({
      status: 422,
      body: { error: { code: 'invalid_field', message: 'no artifact a1 in this project', field: 'dependencies[0]' } },
    }));
    renderDialog();
    const deps = await screen.findByRole('group', { name: 'Dependencies (optional)' });
    fireEvent.click(await within(deps).findByRole('checkbox', { name: /json-lib\.jar/ }));
    fireEvent.change(screen.getByLabelText('Engine cluster'), { target: { value: 'c2' } });
    fireEvent.click(screen.getByRole('button', { name: 'Deploy and start' }));
    await waitFor(() => expect(deps.getAttribute('aria-invalid')).toBe('true'));
    const err = document.getElementById(deps.getAttribute('aria-describedby')!)!;
    expect(err.textContent).toBe('no artifact a1 in this project');
    // Once, at its place: not again at the bottom of the form.
    expect(screen.getAllByRole('alert')).toHaveLength(1);
  });
});
