import { describe, expect, it, vi } from 'vitest';
import { act, render, screen, waitFor, fireEvent, within } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { EditorView } from '@codemirror/view';
import { forEachDiagnostic } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { CompletionContext, acceptCompletion, currentCompletions, startCompletion } from '@codemirror/autocomplete';
import { SqlEditor, connectorCompletion } from '../components/SqlEditor';
import { JobEditor } from './JobEditor';
import { mockApi } from '../test/mockApi';
import type { Schemas } from '../api/client';

const SQL = `CREATE TEMPORARY TABLE src (n BIGINT) WITH ('connector' = 'datagen');
INSERT INTO snk SELEC n FROM src;
`;

const job: Schemas['Job'] = {
  id: 'j1',
  project_id: 'p1',
  folder_id: null,
  name: 'clicks',
  content: { kind: 'sql', sql: SQL },
  revision: 3,
  last_version: 0,
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};

function renderEditor({ defaultClusterId, canWrite = true }: { defaultClusterId?: string; canWrite?: boolean } = {}) {
  const router = createMemoryRouter(
    [
      {
        path: '/projects/:projectId/jobs/:jobId',
        element: <JobEditor projectId="p1" initial={job} canWrite={canWrite} onJobChanged={() => {}} defaultClusterId={defaultClusterId} />,
      },
    ],
    { initialEntries: ['/projects/p1/jobs/j1'] },
  );
  return render(<RouterProvider router={router} />);
}

describe('the job editor', () => {
  it('marks a validation error at its line and column and lists it', async () => {
    const calls = mockApi({
      'POST /projects/{p}/jobs/{j}/validate': () => ({
        body: {
          valid: false,
          statements: [],
          sources: [],
          sinks: [],
          errors: [
            { message: "Expected an SQL statement, found: SELEC", line: 2, column: 17, statement: 2, hint: 'SELEC is not a keyword: did you mean SELECT?' },
            { message: 'Something failed in the cluster', line: null, column: null, statement: null, hint: 'the engine gave no position for this error' },
          ],
          engine: { status: 'skipped', cluster_id: null, message: 'fix the errors Sluice found first' },
          plan: null,
        },
      }),
    });
    renderEditor();
    fireEvent.click(screen.getByRole('button', { name: 'Validate' }));

    // Listed below the editor, at its place.
    const list = await screen.findByRole('list', { name: 'Validation errors' });
    expect(list.textContent).toContain('Ln 2, Col 17');
    expect(list.textContent).toContain('found: SELEC');
    expect(list.textContent).toContain('did you mean SELECT?');
    // One with no place says so instead of pretending line 1, and marks nothing.
    expect(list.textContent).toContain('Whole script');
    expect(calls.filter((c) => c.path === '/projects/p1/jobs/j1/validate')).toHaveLength(1);

    // And in the editor: a lint diagnostic covering the word at line 2, column 17.
    const dom = screen.getByTestId('sql-editor').querySelector('.cm-editor') as HTMLElement;
    const view = EditorView.findFromDOM(dom)!;
    await waitFor(() => {
      const found: { line: number; col: number; text: string; message: string }[] = [];
      forEachDiagnostic(view.state, (d, from, to) => {
        const line = view.state.doc.lineAt(from);
        found.push({ line: line.number, col: from - line.from + 1, text: view.state.sliceDoc(from, to), message: d.message });
      });
      expect(found).toEqual([
        { line: 2, col: 17, text: 'SELEC', message: 'Expected an SQL statement, found: SELEC\nSELEC is not a keyword: did you mean SELECT?' },
      ]);
    });
    expect(dom.querySelector('.cm-lintRange-error')?.textContent).toBe('SELEC');

    // Its place in the list takes the cursor there.
    fireEvent.click(screen.getByRole('button', { name: 'Ln 2, Col 17' }));
    const head = view.state.selection.main.head;
    expect([view.state.doc.lineAt(head).number, head - view.state.doc.lineAt(head).from + 1]).toEqual([2, 17]);
  });

  it('saves an edited draft with its ETag before validating', async () => {
    const calls = mockApi({
      'PATCH /projects/{p}/jobs/{j}': (r) => ({ body: { ...job, content: (r.body as { content: Schemas['JobContent'] }).content, revision: 4 } }),
      'POST /projects/{p}/jobs/{j}/validate': () => ({
        body: { valid: true, statements: [], sources: [], sinks: [], errors: [], engine: { status: 'planned', cluster_id: 'c', message: null }, plan: { name: 'clicks', nodes: [] } },
      }),
    });
    renderEditor();
    const dom = screen.getByTestId('sql-editor').querySelector('.cm-editor') as HTMLElement;
    const view = EditorView.findFromDOM(dom)!;
    act(() => view.dispatch({ changes: { from: view.state.doc.length, insert: '-- fixed\n' } }));
    await screen.findByTestId('dirty');
    fireEvent.click(screen.getByRole('button', { name: 'Validate' }));
    await screen.findByTestId('plan');
    const patch = calls.find((c) => c.method === 'PATCH')!;
    expect(patch.headers.get('if-match')).toBe('"3"');
    expect(patch.body).toEqual({ content: { kind: 'sql', sql: SQL + '-- fixed\n' } });
    // (The references panel beside the editor reads its lists with GETs of its own.)
    expect(calls.filter((c) => c.method !== 'GET').map((c) => c.method + ' ' + c.path)).toEqual(['PATCH /projects/p1/jobs/j1', 'POST /projects/p1/jobs/j1/validate']);
  });

  it('on a 412 shows the server version beside mine and keeps mine on top of it', async () => {
    const theirs = { ...job, content: { kind: 'sql' as const, sql: SQL.replace('datagen', 'kafka') }, revision: 5 };
    let patches = 0;
    const calls = mockApi({
      'PATCH /projects/{p}/jobs/{j}': (r) => {
        patches += 1;
        if (r.headers.get('if-match') !== '"5"') return { status: 412, body: { error: { code: 'precondition_failed', message: 'the draft changed', field: 'If-Match' } } };
        return { body: { ...theirs, content: (r.body as { content: Schemas['JobContent'] }).content, revision: 6 } };
      },
      'GET /projects/{p}/jobs/{j}': () => ({ body: theirs }),
    });
    renderEditor();
    const view = EditorView.findFromDOM(screen.getByTestId('sql-editor').querySelector('.cm-editor') as HTMLElement)!;
    act(() => view.dispatch({ changes: { from: 0, insert: '-- mine\n' } }));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));

    const dialog = await screen.findByRole('dialog', { name: 'Someone else changed this job' });
    // The server's version is read once the dialog is open: the sides follow.
    await waitFor(() => expect(dialog.querySelectorAll('.cm-mergeViewEditor .cm-content')).toHaveLength(2));
    const sides = dialog.querySelectorAll('.cm-mergeViewEditor .cm-content');
    expect(sides[0]!.textContent).toContain("'kafka'");
    expect(sides[1]!.textContent).toContain('-- mine');
    fireEvent.click(screen.getByRole('button', { name: 'Keep mine' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(patches).toBe(2);
    const last = calls.filter((c) => c.method === 'PATCH').at(-1)!;
    expect(last.headers.get('if-match')).toBe('"5"');
    expect(last.body).toEqual({ content: { kind: 'sql', sql: '-- mine\n' + SQL } });
    expect(screen.queryByTestId('dirty')).toBeNull();
  });
});

const health = { status: 'healthy', checked_at: null, detail: null };
const CLUSTERS = [
  { id: 'c1', name: 'platform', rest_url: 'http://x', flink_version: '2.3.0', engine_version: '1.0.0', platform: true, health, created_at: job.created_at },
  { id: 'c2', name: 'own-1.20', rest_url: 'http://y', flink_version: '1.20.5', engine_version: '0.9.0', platform: false, health, created_at: job.created_at },
];
const CATALOGUES: Record<string, { identifier: string; kind: 'connector' | 'format'; source: string }[]> = {
  '1.0.0': [
    { identifier: 'datagen', kind: 'connector', source: 'engine' },
    { identifier: 'kafka', kind: 'connector', source: 'catalogue' },
    { identifier: 'json', kind: 'format', source: 'engine' },
  ],
  '0.9.0': [
    { identifier: 'jdbc', kind: 'connector', source: 'catalogue' },
    { identifier: 'csv', kind: 'format', source: 'engine' },
  ],
};

function referencesServer() {
  return mockApi({
    'GET /projects/{p}/functions': () => ({
      body: { items: [{ name: 'to_upper', artifact_id: 'a1', class_name: 'com.acme.udf.ToUpper', kind: 'scalar', registered_at: job.created_at }] },
    }),
    'GET /projects/{p}/connections': () => ({
      body: {
        items: [
          {
            id: 'k1', project_id: 'p1', name: 'kafka_prod', kind: 'kafka',
            properties: { 'properties.bootstrap.servers': 'broker-1:9092' },
            secret_keys: ['properties.sasl.jaas.config'],
            created_at: job.created_at, updated_at: job.created_at,
          },
        ],
      },
    }),
    'GET /clusters': () => ({ body: CLUSTERS }),
    'GET /engine-versions/{l}/connectors': (r) => {
      const label = decodeURIComponent(r.path.split('/')[2]!);
      return { body: { label, flink_version: CLUSTERS.find((c) => c.engine_version === label)!.flink_version, connectors: CATALOGUES[label]!.map((c) => ({ ...c, jars: [] })) } };
    },
    'PATCH /projects/{p}/jobs/{j}': (r) => ({ body: { ...job, content: (r.body as { content: Schemas['JobContent'] }).content, revision: 4 } }),
    'POST /projects/{p}/jobs/{j}/validate': () => ({
      body: { valid: true, statements: [], sources: [], sinks: [], errors: [], engine: { status: 'planned', cluster_id: 'c1', message: null }, plan: { name: 'clicks', nodes: [] } },
    }),
  });
}

describe('the references beside the editor', () => {
  it("inserts the project's functions, connectors and connection references at the cursor, never a value", async () => {
    const calls = referencesServer();
    renderEditor({ defaultClusterId: 'c2' });
    const panel = screen.getByRole('complementary', { name: 'References' });
    const view = EditorView.findFromDOM(screen.getByTestId('sql-editor').querySelector('.cm-editor') as HTMLElement)!;
    act(() => view.dispatch({ selection: { anchor: view.state.doc.length } }));

    fireEvent.click(await within(panel).findByRole('button', { name: 'Insert to_upper' }));
    expect(view.state.doc.toString()).toBe(SQL + 'to_upper');
    fireEvent.click(within(panel).getByRole('button', { name: 'Insert ${connections.kafka_prod.properties.sasl.jaas.config}' }));
    expect(view.state.doc.toString()).toBe(SQL + 'to_upper${connections.kafka_prod.properties.sasl.jaas.config}');
    expect(within(panel).getByRole('list', { name: 'Keys of kafka_prod' }).textContent).toContain('secret');
    // Keys only: not even a plain property's value is shown.
    expect(panel.textContent).not.toContain('broker-1:9092');
    expect(screen.getByTestId('dirty')).toBeTruthy();

    // The catalogue is that of the project's cluster, where validation goes by default.
    const connectors = await within(panel).findByRole('list', { name: 'Connectors' });
    expect(within(connectors).getAllByRole('button').map((b) => b.getAttribute('aria-label'))).toEqual(["Insert 'connector' = 'jdbc'"]);
    expect(within(panel).getByRole('list', { name: 'Formats' }).textContent).toContain('csv');
    expect(panel.textContent).toContain('engine 0.9.0 (Flink 1.20.5)');
    expect(calls.filter((c) => c.path.startsWith('/engine-versions/')).map((c) => c.path)).toEqual(['/engine-versions/0.9.0/connectors']);

    // After a validation the catalogue follows the cluster the engine checked the job on.
    fireEvent.click(screen.getByRole('button', { name: 'Validate' }));
    await waitFor(() => expect(within(panel).getByRole('list', { name: 'Connectors' }).textContent).toContain('kafka'));
    expect(panel.textContent).toContain('engine 1.0.0 (Flink 2.3.0)');
    expect(calls.some((c) => c.path.includes('secret'))).toBe(false);
  });

  it('lists but inserts nothing for a reader, and hides and shows again', async () => {
    referencesServer();
    renderEditor({ canWrite: false });
    const panel = screen.getByRole('complementary', { name: 'References' });
    const fn = await within(panel).findByRole('button', { name: 'Insert to_upper' });
    expect((fn as HTMLButtonElement).disabled).toBe(true);
    // No project cluster: the platform's catalogue.
    await within(panel).findByText(/engine 1\.0\.0/);
    fireEvent.click(within(panel).getByRole('button', { name: 'Hide references' }));
    expect(screen.queryByRole('complementary', { name: 'References' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Show references' }));
    expect(await screen.findByRole('complementary', { name: 'References' })).toBeTruthy();
  });

  it('starts hidden in a window too narrow to leave the editor room beside it, and opens on request', async () => {
    referencesServer();
    // A window of 1024 px: no query matches (the editor itself asks about print media).
    const queries: string[] = [];
    const noop = () => {};
    vi.stubGlobal('matchMedia', (query: string) => {
      queries.push(query);
      return { matches: false, media: query, addListener: noop, removeListener: noop, addEventListener: noop, removeEventListener: noop } as unknown as MediaQueryList;
    });
    try {
      renderEditor();
      expect(queries).toContain('(min-width: 1280px)');
      expect(screen.queryByRole('complementary', { name: 'References' })).toBeNull();
      expect(screen.getByTestId('sql-editor')).toBeTruthy();
      fireEvent.click(screen.getByRole('button', { name: 'Show references' }));
      const panel = await screen.findByRole('complementary', { name: 'References' });
      expect(await within(panel).findByRole('button', { name: 'Insert to_upper' })).toBeTruthy();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('completion of connector names', () => {
  const source = connectorCompletion(() => CATALOGUES['1.0.0']! as { identifier: string; kind: 'connector' | 'format' }[]);
  const complete = (doc: string) => {
    const state = EditorState.create({ doc });
    const r = source(new CompletionContext(state, doc.length, false));
    return r && { typed: doc.slice(r.from), labels: r.options.map((o) => o.label) };
  };

  it("offers connectors inside 'connector' = '...' and formats inside the format options", () => {
    expect(complete("CREATE TABLE t (n INT) WITH ('connector' = '")).toEqual({ typed: '', labels: ['datagen', 'kafka'] });
    expect(complete("WITH (\n  'connector'='ka")).toEqual({ typed: 'ka', labels: ['datagen', 'kafka'] });
    expect(complete("  'value.format' = 'js")).toEqual({ typed: 'js', labels: ['json'] });
  });

  it('completes in the editor from the catalogue it is given', async () => {
    const doc = "CREATE TABLE t (n INT) WITH ('connector' = 'ka";
    render(<SqlEditor value={doc} connectors={CATALOGUES['1.0.0']! as { identifier: string; kind: 'connector' | 'format' }[]} />);
    const view = EditorView.findFromDOM(screen.getByTestId('sql-editor').querySelector('.cm-editor') as HTMLElement)!;
    act(() => view.dispatch({ selection: { anchor: doc.length } }));
    act(() => void startCompletion(view));
    await waitFor(() => expect(currentCompletions(view.state).map((c) => c.label)).toEqual(['kafka']));
    // The list takes a pick only once it has been open a moment (CodeMirror's guard
    // against accepting with a key pressed as it appears): try until it does.
    await waitFor(() => {
      act(() => void acceptCompletion(view));
      expect(view.state.doc.toString()).toBe("CREATE TABLE t (n INT) WITH ('connector' = 'kafka");
    });
  });

  it('offers nothing elsewhere', () => {
    expect(complete('SELECT ')).toBeNull();
    expect(complete("'topic' = 'ka")).toBeNull();
    expect(complete("'connector' = 'kafka', 'topic' = 'x")).toBeNull();
  });
});
