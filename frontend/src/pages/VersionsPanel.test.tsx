import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { VersionsPanel } from './VersionsPanel';
import { mockApi } from '../test/mockApi';
import type { Schemas } from '../api/client';

const v = (version: number, sql: string): Schemas['Version'] => ({
  job_id: 'j1',
  version,
  message: `cut ${version}`,
  content: { kind: 'sql', sql },
  created_by: 'u1',
  created_at: '2026-12-01T00:00:00Z',
});

describe('versions and the diff view', () => {
  it('shows a version and the draft side by side, and rolls back through the API', async () => {
    let rolledBack: Schemas['Job'] | undefined;
    const calls = mockApi({
      'GET /projects/{p}/jobs/{j}/versions': () => ({ body: { items: [v(2, 'SELECT 2;\n'), v(1, 'SELECT old_column FROM t;\n')] } }),
      'POST /projects/{p}/jobs/{j}/rollback': () => ({
        body: {
          id: 'j1', project_id: 'p1', folder_id: null, name: 'j', content: { kind: 'sql', sql: 'SELECT old_column FROM t;\n' },
          revision: 8, last_version: 2, created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z',
        },
      }),
    });
    render(
      <VersionsPanel
        projectId="p1"
        jobId="j1"
        draft={{ kind: 'sql', sql: 'SELECT new_column FROM t;\n' }}
        revision={7}
        canWrite
        reloadKey={0}
        onRolledBack={(j) => (rolledBack = j)}
      />,
    );
    const row = (await screen.findByText('cut 1')).closest('tr')!;
    fireEvent.click(within(row).getByRole('button', { name: 'Compare' }));

    const diff = await screen.findByTestId('diff-view');
    await waitFor(() => expect(diff.querySelectorAll('.cm-mergeViewEditor .cm-content')).toHaveLength(2));
    const sides = diff.querySelectorAll('.cm-mergeViewEditor .cm-content');
    expect(sides[0]!.textContent).toContain('SELECT old_column FROM t;');
    expect(sides[1]!.textContent).toContain('SELECT new_column FROM t;');
    expect(screen.getByTestId('diff-left-label').textContent).toBe('v1');
    expect(screen.getByTestId('diff-right-label').textContent).toBe('Draft');
    // The changed word is marked on both sides.
    expect(diff.querySelector('.cm-changedText')).not.toBeNull();

    fireEvent.click(within(row).getByRole('button', { name: 'Roll back' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Roll back' }));
    await waitFor(() => expect(rolledBack?.revision).toBe(8));
    const rb = calls.find((c) => c.path === '/projects/p1/jobs/j1/rollback')!;
    expect(rb.method).toBe('POST');
    expect(rb.body).toEqual({ version: 1 });
    expect(rb.headers.get('if-match')).toBe('"7"');
  });
});
