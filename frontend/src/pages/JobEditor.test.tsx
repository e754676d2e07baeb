import { describe, expect, it } from 'vitest';
import { act, render, screen, waitFor, fireEvent } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { EditorView } from '@codemirror/view';
import { forEachDiagnostic } from '@codemirror/lint';
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

function renderEditor() {
  const router = createMemoryRouter(
    [{ path: '/projects/:projectId/jobs/:jobId', element: <JobEditor projectId="p1" initial={job} canWrite onJobChanged={() => {}} /> }],
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
          errors: [{ message: "Expected an SQL statement, found: SELEC", line: 2, column: 17, statement: 2 }],
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
      expect(found).toEqual([{ line: 2, col: 17, text: 'SELEC', message: 'Expected an SQL statement, found: SELEC' }]);
    });
    expect(dom.querySelector('.cm-lintRange-error')?.textContent).toBe('SELEC');
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
    expect(calls.map((c) => c.method + ' ' + c.path)).toEqual(['PATCH /projects/p1/jobs/j1', 'POST /projects/p1/jobs/j1/validate']);
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
