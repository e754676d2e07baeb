import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { JobEditor } from './JobEditor';
import { mockApi, type Recorded } from '../test/mockApi';
import type { Schemas } from '../api/client';

const SQL = `CREATE TEMPORARY TABLE orders (id BIGINT, customer STRING, amount DOUBLE) WITH ('connector' = 'datagen');
SELECT customer, COUNT(*) AS n FROM orders GROUP BY customer;
`;

const job: Schemas['Job'] = {
  id: 'j1',
  project_id: 'p1',
  folder_id: null,
  name: 'counts',
  content: { kind: 'sql', sql: SQL },
  revision: 3,
  last_version: 0,
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};

// The draft read as a debug run reads it (`debug: true`): its SELECT is a result, and
// the table it reads is listed; the engine is not asked.
const REPORT: Schemas['ValidationReport'] = {
  valid: true,
  statements: [
    { index: 1, kind: 'ddl', line: 1, column: 1, text: SQL.split('\n')[0]! },
    { index: 2, kind: 'query', line: 2, column: 1, text: SQL.split('\n')[1]! },
  ],
  sources: [{ name: 'orders', connector: 'datagen' }],
  sinks: [],
  errors: [],
  engine: { status: 'skipped', cluster_id: null, message: 'read as a debug run: the engine plans it when the run starts' },
  plan: null,
};

// The same draft read as a deployed job: a SELECT of its own has nowhere to write, and
// Sluice's reading stops there, listing no tables.
const DEPLOY_REPORT: Schemas['ValidationReport'] = {
  valid: false,
  statements: [],
  sources: [],
  sinks: [],
  errors: [{ message: 'a SELECT on its own has nowhere to write in a deployed job', line: 2, column: 1, statement: 2, hint: null }],
  engine: { status: 'skipped', cluster_id: null, message: 'fix the errors Sluice found first' },
  plan: null,
};

const SAMPLE: Schemas['DebugSample'] = {
  id: 's1',
  name: 'four-orders.csv',
  format: 'csv',
  columns: ['id', 'customer', 'amount'],
  row_count: 4,
  size_bytes: 64,
  created_at: job.created_at,
};

const health = { status: 'healthy', checked_at: null, detail: null };
const CLUSTERS: Schemas['Cluster'][] = [
  { id: 'c1', name: 'platform', rest_url: 'http://x', flink_version: '2.3.0', engine_version: '1.0.0', platform: true, debug_sessions: true, health, created_at: job.created_at },
];

const RESULT: Schemas['DebugResult'] = { target: 'statement:2', statement: 2, table: null, columns: ['customer', 'n'] };

const run = (over: Partial<Schemas['DebugRun']> = {}): Schemas['DebugRun'] => ({
  id: 'r1',
  job_id: 'j1',
  cluster_id: 'c1',
  status: 'starting',
  stop_reason: null,
  error: null,
  record_limit: 1000,
  time_limit_seconds: 180,
  records: 0,
  started_at: job.created_at,
  ended_at: null,
  results: [RESULT],
  rows: [],
  ...over,
});

const row = (seq: number, kind: string, ...values: (string | null)[]): Schemas['DebugRow'] => ({ seq, target: 'statement:2', kind, values });

function renderEditor() {
  const router = createMemoryRouter(
    [{ path: '/projects/:projectId/jobs/:jobId', element: <JobEditor projectId="p1" initial={job} canWrite onJobChanged={() => {}} /> }],
    { initialEntries: ['/projects/p1/jobs/j1'] },
  );
  return render(<RouterProvider router={router} />);
}

/** The server for a debug run: validation, samples, clusters; `more` adds or overrides routes. */
function server(more: Parameters<typeof mockApi>[0]) {
  return mockApi({
    'POST /projects/{p}/jobs/{j}/validate': (r) => ({ body: (r.body as Schemas['ValidateRequest']).debug ? REPORT : DEPLOY_REPORT }),
    'GET /projects/{p}/debug-samples': () => ({ body: [SAMPLE] }),
    'GET /clusters': () => ({ body: CLUSTERS }),
    ...more,
  });
}

const reads = (calls: Recorded[]) => calls.filter((c) => c.method === 'GET' && c.path === '/projects/p1/debug-runs/r1');

async function openDialog() {
  fireEvent.click(screen.getByRole('button', { name: 'Debug' }));
  return screen.findByRole('dialog', { name: 'Debug the draft' });
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('debugging a SQL draft', () => {
  it('starts with the chosen sample for a source and fills the results in over two reads, updates marked', async () => {
    const calls = server({
      'POST /projects/{p}/jobs/{j}/debug': () => ({ status: 202, body: run() }),
      'GET /projects/{p}/debug-runs/{r}': (r) =>
        r.search === '?after=0'
          ? { body: run({ status: 'running', records: 2, rows: [row(1, '+I', 'ann', '1'), row(2, '+I', 'bob', '1')] }) }
          : r.search === '?after=2'
            ? { body: run({ status: 'ended', stop_reason: 'input_exhausted', records: 4, rows: [row(3, '-U', 'ann', '1'), row(4, '+U', 'ann', '2')] }) }
            : undefined,
    });
    renderEditor();
    const dialog = await openDialog();
    // The source tables are the validation's, read as a debug run: there was none, so one was made.
    expect(calls.filter((c) => c.method === 'POST').map((c) => [c.path, c.body])).toEqual([['/projects/p1/jobs/j1/validate', { debug: true }]]);
    expect(within(dialog).queryByTestId('sources-unlisted')).toBeNull();
    const input = within(dialog).getByRole('combobox', { name: 'Input of orders' });
    await within(input).findByRole('option', { name: 'Sample: four-orders.csv (4 rows)' });
    expect((input as HTMLSelectElement).value).toBe('');
    fireEvent.change(input, { target: { value: 's1' } });
    expect(within(dialog).getByText('Columns: id, customer, amount')).toBeTruthy();
    fireEvent.change(within(dialog).getByLabelText('Record limit'), { target: { value: '50' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const start = calls.find((c) => c.method === 'POST' && c.path === '/projects/p1/jobs/j1/debug')!;
    expect(start.body).toEqual({ sources: { orders: { sample_id: 's1' } }, record_limit: 50 });
    expect(screen.getByRole('tab', { name: /Debug/ }).getAttribute('aria-selected')).toBe('true');

    // The first read's rows, then the second's after them; then it has ended.
    const table = await screen.findByRole('table', { name: 'Statement 2 · SELECT' });
    await within(table).findByText('bob');
    await waitFor(() => expect(screen.getByTestId('debug-outcome').textContent).toBe('Ended: input exhausted'));
    expect(reads(calls).map((c) => c.search)).toEqual(['?after=0', '?after=2']);
    const body = within(table).getAllByRole('row').slice(1);
    expect(body.map((r) => r.textContent)).toEqual(['+Iann1', '+Ibob1', '-Uann1', '+Uann2']);
    // An update's old row is struck through, its new row highlighted; inserts are plain.
    expect(body.map((r) => r.className)).toEqual(['', '', 'retract', 'update-after']);
    expect(screen.getByTestId('debug-records').textContent).toContain('4 records');
    // Ended: nothing to stop.
    expect(screen.queryByRole('button', { name: 'Stop' })).toBeNull();
  });

  it('uploads a sample file for a source and reads it from there', async () => {
    const samples: Schemas['DebugSample'][] = [];
    const calls = server({
      'GET /projects/{p}/debug-samples': () => ({ body: samples }),
      'POST /projects/{p}/debug-samples': (r) => {
        const b = r.body as Schemas['NewDebugSample'];
        samples.push({ ...SAMPLE, id: 's9', name: b.name, format: b.format, row_count: 2 });
        return { status: 201, body: samples[0] };
      },
      'POST /projects/{p}/jobs/{j}/debug': () => ({ status: 202, body: run() }),
      'GET /projects/{p}/debug-runs/{r}': () => ({ body: run({ status: 'running' }) }),
    });
    renderEditor();
    const dialog = await openDialog();
    const csv = 'id,customer,amount\n1,ann,5.0\n2,bob,20.0\n';
    const file = new File([csv], 'two-orders.csv', { type: 'text/csv' });
    fireEvent.change(within(dialog).getByLabelText('Sample file for orders'), { target: { files: [file] } });
    const input = within(dialog).getByRole('combobox', { name: 'Input of orders' }) as HTMLSelectElement;
    await waitFor(() => expect(input.value).toBe('s9'));
    expect(calls.find((c) => c.method === 'POST' && c.path === '/projects/p1/debug-samples')!.body).toEqual({ name: 'two-orders.csv', format: 'csv', content: csv });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.find((c) => c.path === '/projects/p1/jobs/j1/debug')!.body).toEqual({ sources: { orders: { sample_id: 's9' } } });
  });

  it('stops a running run with Stop, and reads it to its end', async () => {
    let cancelled = false;
    const calls = server({
      'POST /projects/{p}/jobs/{j}/debug': () => ({ status: 202, body: run() }),
      'GET /projects/{p}/debug-runs/{r}': () => ({
        body: cancelled ? run({ status: 'ended', stop_reason: 'cancelled', records: 1 }) : run({ status: 'running', records: 1, rows: [] }),
      }),
      'POST /projects/{p}/debug-runs/{r}/cancel': () => {
        cancelled = true;
        return { status: 202, body: run({ status: 'stopping', records: 1 }) };
      },
    });
    renderEditor();
    const dialog = await openDialog();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start' }));
    await waitFor(() => expect(screen.getByTestId('debug-outcome').textContent).toMatch(/^Running/));
    fireEvent.click(screen.getByRole('button', { name: 'Stop' }));
    await waitFor(() => expect(screen.getByTestId('debug-outcome').textContent).toBe('Ended: cancelled'));
    expect(calls.filter((c) => c.method === 'POST' && c.path === '/projects/p1/debug-runs/r1/cancel')).toHaveLength(1);
    expect(screen.queryByRole('button', { name: 'Stop' })).toBeNull();
  });

  it('stops reading a run when the editor is left', async () => {
    // Timers the test moves on itself, in step with the clock otherwise.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    const calls = server({
      'POST /projects/{p}/jobs/{j}/debug': () => ({ status: 202, body: run() }),
      'GET /projects/{p}/debug-runs/{r}': () => ({ body: run({ status: 'running' }) }),
    });
    const view = renderEditor();
    const dialog = await openDialog();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start' }));
    await waitFor(() => expect(reads(calls).length).toBeGreaterThanOrEqual(2));
    view.unmount();
    const before = reads(calls).length;
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    expect(reads(calls)).toHaveLength(before);
  });

  it("shows the script errors a start is refused for as the problems, and other refusals in the server's words", async () => {
    let attempt = 0;
    server({
      'POST /projects/{p}/jobs/{j}/debug': () => {
        attempt += 1;
        return attempt === 1
          ? {
              status: 422,
              body: {
                error: { code: 'invalid_script', message: "line 2, column 8: Column 'customr' not found", field: 'content' },
                errors: [{ message: "Column 'customr' not found in any table", line: 2, column: 8, statement: 2, hint: 'did you mean customer?' }],
              },
            }
          : { status: 409, body: { error: { code: 'conflict', message: 'a project may have 1 debug run at a time', field: 'concurrent_debug_runs' } } };
      },
    });
    renderEditor();
    let dialog = await openDialog();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start' }));

    const list = await screen.findByRole('list', { name: 'Validation errors' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.getByRole('tab', { name: /Problems/ }).getAttribute('aria-selected')).toBe('true');
    expect(screen.getByRole('tab', { name: /Problems/ }).textContent).toBe('Problems (1)');
    expect(list.textContent).toContain('Ln 2, Col 8');
    expect(list.textContent).toContain("Column 'customr' not found in any table");
    expect(list.textContent).toContain('did you mean customer?');
    expect(screen.getByTestId('problems').textContent).toContain('The debug run did not start');
    // Marked in the editor too, as validation errors are.
    await waitFor(() => expect(screen.getByTestId('sql-editor').querySelector('.cm-lintRange-error')).toBeTruthy());

    // Any other refusal stays in the dialog, in the server's words.
    dialog = await openDialog();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('a project may have 1 debug run at a time');
  });

  it("lists the tables of a draft whose SELECT a deployment's validation refuses, and leaves that validation's problems alone", async () => {
    const calls = server({
      'POST /projects/{p}/jobs/{j}/debug': () => ({ status: 202, body: run() }),
      'GET /projects/{p}/debug-runs/{r}': () => ({ body: run({ status: 'running' }) }),
    });
    renderEditor();
    // Validate reads the draft as a deployed job: the SELECT of its own is its problem.
    fireEvent.click(screen.getByRole('button', { name: 'Validate' }));
    await waitFor(() => expect(screen.getByRole('tab', { name: /Problems/ }).textContent).toBe('Problems (1)'));

    // Debug reads it again, as a run would, and so lists the table it reads.
    const dialog = await openDialog();
    expect(calls.filter((c) => c.path.endsWith('/validate')).map((c) => c.body)).toEqual([{}, { debug: true }]);
    expect(within(dialog).queryByTestId('sources-unlisted')).toBeNull();
    expect(within(dialog).queryByRole('textbox', { name: 'Source table name' })).toBeNull();
    const input = within(dialog).getByRole('combobox', { name: 'Input of orders' });
    await within(input).findByRole('option', { name: 'Sample: four-orders.csv (4 rows)' });
    fireEvent.change(input, { target: { value: 's1' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.find((c) => c.path === '/projects/p1/jobs/j1/debug')!.body).toEqual({ sources: { orders: { sample_id: 's1' } } });
    // The problems are still the validation's: the debug reading is not shown.
    expect(screen.getByRole('tab', { name: /Problems/ }).textContent).toBe('Problems (1)');

    // The next run of the same draft asks for no new reading, and keeps the sample.
    fireEvent.click(screen.getByRole('button', { name: 'Debug' }));
    const again = await screen.findByRole('dialog', { name: 'Debug the draft' });
    // Once the project's samples are listed again, the one chosen last time is chosen.
    await within(again).findByRole('option', { name: 'Sample: four-orders.csv (4 rows)' });
    expect((within(again).getByRole('combobox', { name: 'Input of orders' }) as HTMLSelectElement).value).toBe('s1');
    expect(calls.filter((c) => c.path.endsWith('/validate'))).toHaveLength(2);
  });

  it("lets the tables be named when even the debug reading stopped at the script's errors, and leaves its problems alone", async () => {
    const calls = server({
      // A script Sluice cannot parse: its reading stops before listing any table.
      'POST /projects/{p}/jobs/{j}/validate': () => ({
        body: {
          ...REPORT,
          valid: false,
          statements: [],
          sources: [],
          errors: [{ message: 'Encountered "FORM" at line 2, column 35', line: 2, column: 35, statement: 2, hint: null }],
          engine: { status: 'skipped', cluster_id: null, message: 'fix the errors Sluice found first' },
        },
      }),
      'POST /projects/{p}/jobs/{j}/debug': () => ({ status: 202, body: run() }),
      'GET /projects/{p}/debug-runs/{r}': () => ({ body: run({ status: 'running' }) }),
    });
    renderEditor();
    const dialog = await openDialog();
    expect(calls.find((c) => c.path.endsWith('/validate'))!.body).toEqual({ debug: true });
    expect(within(dialog).getByTestId('sources-unlisted')).toBeTruthy();
    expect(within(dialog).queryByRole('combobox', { name: 'Input of orders' })).toBeNull();
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Source table name' }), { target: { value: ' orders ' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add table' }));
    const input = within(dialog).getByRole('combobox', { name: 'Input of orders' });
    await within(input).findByRole('option', { name: 'Sample: four-orders.csv (4 rows)' });
    fireEvent.change(input, { target: { value: 's1' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.find((c) => c.path === '/projects/p1/jobs/j1/debug')!.body).toEqual({ sources: { orders: { sample_id: 's1' } } });
    // The reading was for the tables only: its errors are not shown as problems.
    expect(screen.getByRole('tab', { name: /Problems/ }).textContent).toBe('Problems');
    expect(screen.getByTestId('sql-editor').querySelector('.cm-lintRange-error')).toBeNull();

    // The next run of the same draft asks for no new reading, and keeps the table.
    fireEvent.click(screen.getByRole('button', { name: 'Debug' }));
    const again = await screen.findByRole('dialog', { name: 'Debug the draft' });
    // Once the project's samples are listed again, the one chosen last time is chosen.
    await within(again).findByRole('option', { name: 'Sample: four-orders.csv (4 rows)' });
    expect((within(again).getByRole('combobox', { name: 'Input of orders' }) as HTMLSelectElement).value).toBe('s1');
    expect(calls.filter((c) => c.path.endsWith('/validate'))).toHaveLength(1);
  });

  it('deletes a sample of the project after asking, and the list and the tables reading it follow', async () => {
    const OTHER: Schemas['DebugSample'] = { ...SAMPLE, id: 's2', name: 'late-orders.jsonl', format: 'jsonl', row_count: 1 };
    let samples = [SAMPLE, OTHER];
    const calls = server({
      'GET /projects/{p}/debug-samples': () => ({ body: samples }),
      'DELETE /projects/{p}/debug-samples/{s}': (r) => {
        samples = samples.filter((s) => !r.path.endsWith('/' + s.id));
        return { status: 204 };
      },
      'POST /projects/{p}/jobs/{j}/debug': () => ({ status: 202, body: run() }),
      'GET /projects/{p}/debug-runs/{r}': () => ({ body: run({ status: 'running' }) }),
    });
    renderEditor();
    const dialog = await openDialog();
    const list = await within(dialog).findByRole('table', { name: 'Samples of the project' });
    expect(within(list).getAllByRole('row').slice(1).map((r) => r.textContent)).toEqual([
      expect.stringContaining('four-orders.csvid, customer, amount4'),
      expect.stringContaining('late-orders.jsonlid, customer, amount1'),
    ]);
    const input = within(dialog).getByRole('combobox', { name: 'Input of orders' }) as HTMLSelectElement;
    fireEvent.change(input, { target: { value: 's1' } });

    // Asked first; kept, nothing is deleted.
    fireEvent.click(within(list).getByRole('button', { name: 'Delete sample four-orders.csv' }));
    let confirm = within(list).getByRole('group', { name: 'Delete four-orders.csv?' });
    expect(confirm.textContent).toContain('every draft of the project');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Keep' }));
    expect(within(list).queryByRole('group')).toBeNull();
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(0);

    // Deleted: gone from the list and the choices, and the table it fed reads live.
    fireEvent.click(within(list).getByRole('button', { name: 'Delete sample four-orders.csv' }));
    confirm = within(list).getByRole('group', { name: 'Delete four-orders.csv?' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(within(list).queryByText('four-orders.csv')).toBeNull());
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/projects/p1/debug-samples/s1']);
    expect(within(list).getByText('late-orders.jsonl')).toBeTruthy();
    expect(input.value).toBe('');
    expect(within(input).queryByRole('option', { name: /four-orders/ })).toBeNull();
    expect(within(dialog).queryByText('Columns: id, customer, amount')).toBeNull();

    fireEvent.click(within(dialog).getByRole('button', { name: 'Start' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.find((c) => c.path === '/projects/p1/jobs/j1/debug')!.body).toEqual({ sources: {} });
  });

  it("keeps the question open with the server's words when a sample cannot be deleted", async () => {
    const calls = server({
      'DELETE /projects/{p}/debug-samples/{s}': () => ({ status: 403, body: { error: { code: 'forbidden', message: 'editors of this project delete its samples' } } }),
    });
    renderEditor();
    const dialog = await openDialog();
    const list = await within(dialog).findByRole('table', { name: 'Samples of the project' });
    fireEvent.click(within(list).getByRole('button', { name: 'Delete sample four-orders.csv' }));
    fireEvent.click(within(within(list).getByRole('group', { name: 'Delete four-orders.csv?' })).getByRole('button', { name: 'Delete' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('editors of this project delete its samples');
    expect(within(list).getByRole('group', { name: 'Delete four-orders.csv?' })).toBeTruthy();
    expect(within(list).getByText('four-orders.csv')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });
});
