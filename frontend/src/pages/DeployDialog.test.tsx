import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { DeployDialog } from './DeployDialog';
import { mockApi, type Recorded } from '../test/mockApi';
import type { Schemas } from '../api/client';

const job: Schemas['Job'] = {
  id: 'j1', project_id: 'p1', folder_id: null, name: 'clicks', content: { kind: 'sql', sql: 'x' },
  revision: 1, last_version: 2, created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z',
};

function server(): Recorded[] {
  return mockApi({
    'GET /projects/{p}/jobs/{j}/versions': () => ({
      body: { items: [2, 1].map((n) => ({ job_id: 'j1', version: n, message: '', content: job.content, created_by: 'u', created_at: job.created_at })) },
    }),
    'GET /clusters': () => ({
      body: [{ id: 'c1', name: 'platform', rest_url: 'http://x', flink_version: '2.3.0', engine_version: '1.0.0', platform: true, health: { status: 'healthy', checked_at: null, detail: null }, created_at: job.created_at }],
    }),
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
    'POST /projects/{p}/deployments': () => ({
      status: 422,
      body: { error: { code: 'invalid_field', message: 'parallelism must be between 1 and 64, got 65', field: 'parallelism' } },
    }),
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
