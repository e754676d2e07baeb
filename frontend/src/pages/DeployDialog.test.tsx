import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
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

function server(create?: (r: Recorded) => { status: number; body: unknown }): Recorded[] {
  return mockApi({
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
    'GET /clusters': () => ({ body: CLUSTERS }),
    'GET /engine-versions': () => ({
      body: [{ label: '1.0.0', flink_version: '2.3.0', stage: 'EOFS', ga: '2026-01-01T00:00:00Z', eogs: '2026-07-01T00:00:00Z', eofs: '2026-10-01T00:00:00Z', eos: '2027-01-01T00:00:00Z', pulled: false, upgrade_to: '1.0.3', upgrade_needs_review: false }],
    }),
    'GET /projects/{p}': () => ({
      body: { id: 'p1', name: 'p', description: '', default_cluster_id: null, created_at: job.created_at, updated_at: job.created_at, limits: {}, usage: { jobs: 1, folders: 0, connections: 0, artifacts: 0 } },
    }),
    'POST /projects/{p}/deployments/cost-preview': (r) => {
      const b = r.body as { parallelism: number; cu_per_task: number };
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
  return render(<RouterProvider router={router} />);
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
    const calls = server();
    renderDialog();
    await screen.findByRole('option', { name: /v2/ });
    fireEvent.change(screen.getByLabelText('Parallelism'), { target: { value: '65' } });
    fireEvent.click(screen.getByRole('button', { name: 'Deploy and start' }));
    const input = screen.getByLabelText('Parallelism');
    await waitFor(() => expect(input.getAttribute('aria-invalid')).toBe('true'));
    const err = document.getElementById(input.getAttribute('aria-describedby')!)!;
    expect(err.textContent).toBe('parallelism must be between 1 and 64, got 65');
    // Inside the Parallelism field, not at the bottom of the form.
    expect(err.closest('.field')!.querySelector('label')!.textContent).toBe('Parallelism');
    const create = calls.find((c) => c.method === 'POST' && c.path === '/projects/p1/deployments')!;
    expect(create.body).toMatchObject({ job_id: 'j1', version: 2, cluster_id: 'c1', parallelism: 65, cu_per_task: 1 });
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
