import { describe, expect, it } from 'vitest';
import { act, render, screen, waitFor } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { EditorView } from '@codemirror/view';
import { currentCompletions, startCompletion } from '@codemirror/autocomplete';
import { JobEditor } from './JobEditor';
import { mockApi } from '../test/mockApi';
import type { Schemas } from '../api/client';

const SQL = `CREATE TEMPORARY TABLE clicks (email STRING) WITH ('connector' = 'datagen');
INSERT INTO out SELECT ma`;

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

describe('completion in the job editor', () => {
  it("offers the project's registered functions, read from the API", async () => {
    mockApi({
      'GET /projects/{p}/functions': () => ({
        body: { items: [{ name: 'mask_email', kind: 'scalar', class_name: 'com.acme.MaskEmail', artifact_id: 'a1', registered_at: '2026-12-01T00:00:00Z' }] },
      }),
      'GET /projects/{p}/connections': () => ({ body: { items: [] } }),
      'GET /clusters': () => ({ body: [] }),
    });
    const router = createMemoryRouter(
      [{ path: '/projects/:projectId/jobs/:jobId', element: <JobEditor projectId="p1" initial={job} canWrite onJobChanged={() => {}} /> }],
      { initialEntries: ['/projects/p1/jobs/j1'] },
    );
    render(<RouterProvider router={router} />);
    const view = EditorView.findFromDOM(screen.getByTestId('sql-editor').querySelector('.cm-editor') as HTMLElement)!;
    // Loaded: the references panel lists it.
    await screen.findByRole('button', { name: 'Insert mask_email' });
    act(() => view.dispatch({ selection: { anchor: SQL.length } }));
    act(() => void startCompletion(view));
    await waitFor(() => expect(currentCompletions(view.state).map((c) => c.label)).toContain('mask_email'));
    // Keywords and the built-in functions alongside, in the case being typed.
    expect(currentCompletions(view.state).map((c) => c.label)).toEqual(expect.arrayContaining(['match_recognize', 'max']));
  });
});
