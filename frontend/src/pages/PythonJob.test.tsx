import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import type { ReactNode } from 'react';
import { JobEditor } from './JobEditor';
import { NewJobDialog } from './FolderTree';
import { mockApi } from '../test/mockApi';
import type { Schemas } from '../api/client';

const JAR = { id: 'a1', project_id: 'p1', name: 'pipeline.jar', kind: 'jar', size_bytes: 2048, sha256: 'ab'.repeat(32), created_at: '2026-12-01T00:00:00Z' };
const PY = { id: 'a2', project_id: 'p1', name: 'enrich.py', kind: 'python', size_bytes: 300, sha256: 'cd'.repeat(32), created_at: '2026-12-01T00:00:00Z' };
const PY2 = { id: 'a3', project_id: 'p1', name: 'enrich_v2.py', kind: 'python', size_bytes: 310, sha256: 'ef'.repeat(32), created_at: '2026-12-02T00:00:00Z' };

const pythonJob: Schemas['Job'] = {
  id: 'j1',
  project_id: 'p1',
  folder_id: null,
  name: 'enrich',
  content: { kind: 'python', artifact_id: 'a2', args: ['--window', '5m'] },
  revision: 3,
  last_version: 0,
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};

function renderAt(element: ReactNode) {
  const router = createMemoryRouter([{ path: '/projects/:projectId/jobs', element }], { initialEntries: ['/projects/p1/jobs'] });
  return render(<RouterProvider router={router} />);
}

const options = (select: HTMLElement) => Array.from(select.querySelectorAll('option')).map((o) => o.textContent);

describe('creating a Python job', () => {
  it('offers only Python artifacts and sends the script with its arguments', async () => {
    const calls = mockApi({
      'GET /projects/{p}/artifacts': () => ({ body: { items: [JAR, PY] } }),
      'POST /projects/{p}/jobs': (r) => ({ status: 201, body: { ...pythonJob, ...(r.body as object) } }),
    });
    const onCreated = vi.fn(async () => {});
    renderAt(<NewJobDialog projectId="p1" folderId={null} folders={[]} onClose={() => {}} onCreated={onCreated} />);
    const dialog = screen.getByRole('dialog', { name: 'New job' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'enrich' } });
    fireEvent.change(within(dialog).getByLabelText('Type'), { target: { value: 'python' } });
    // No entry class: a PyFlink script has none.
    expect(within(dialog).queryByLabelText('Entry class')).toBeNull();
    const artifact = within(dialog).getByLabelText('Artifact');
    await waitFor(() => expect(options(artifact)).toHaveLength(2));
    expect(options(artifact)[1]).toContain('enrich.py');
    expect(options(artifact).join()).not.toContain('pipeline.jar');
    const create = within(dialog).getByRole('button', { name: 'Create' }) as HTMLButtonElement;
    expect(create.disabled).toBe(true);

    fireEvent.change(artifact, { target: { value: 'a2' } });
    // A line being started stays in the box while it is typed.
    const args = within(dialog).getByLabelText('Program arguments (one per line)') as HTMLTextAreaElement;
    fireEvent.change(args, { target: { value: '--window\n' } });
    expect(args.value).toBe('--window\n');
    fireEvent.change(args, { target: { value: '--window\n5m\n\n' } });
    expect(create.disabled).toBe(false);
    fireEvent.click(create);

    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.path).toBe('/projects/p1/jobs');
    expect(post.body).toEqual({ name: 'enrich', folder_id: null, content: { kind: 'python', artifact_id: 'a2', args: ['--window', '5m'] } });
  });

  it("shows the API's refusal of the artifact at the artifact field", async () => {
    const message = 'artifact `a2` is not a Python file (.py)';
    mockApi({
      'GET /projects/{p}/artifacts': () => ({ body: { items: [PY] } }),
      'POST /projects/{p}/jobs': () => ({ status: 422, body: { error: { code: 'invalid_field', message, field: 'content.artifact_id' } } }),
    });
    renderAt(<NewJobDialog projectId="p1" folderId={null} folders={[]} onClose={() => {}} onCreated={async () => {}} />);
    const dialog = screen.getByRole('dialog', { name: 'New job' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'enrich' } });
    fireEvent.change(within(dialog).getByLabelText('Type'), { target: { value: 'python' } });
    const artifact = within(dialog).getByLabelText('Artifact');
    await waitFor(() => expect(options(artifact)).toHaveLength(2));
    fireEvent.change(artifact, { target: { value: 'a2' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(artifact.getAttribute('aria-invalid')).toBe('true'));
    expect(document.getElementById(artifact.getAttribute('aria-describedby')!)!.textContent).toBe(message);
  });

  it('says where to upload a script when the project has none', async () => {
    mockApi({ 'GET /projects/{p}/artifacts': () => ({ body: { items: [JAR] } }) });
    renderAt(<NewJobDialog projectId="p1" folderId={null} folders={[]} onClose={() => {}} onCreated={async () => {}} />);
    fireEvent.change(screen.getByLabelText('Type'), { target: { value: 'python' } });
    const link = await screen.findByRole('link', { name: 'Artifacts page' });
    expect(link.getAttribute('href')).toBe('/projects/p1/artifacts');
    expect(link.parentElement!.textContent).toContain('No Python artifacts in this project yet: upload a .py file');
  });
});

describe('the editor of a Python job', () => {
  it('edits the script and its arguments, saves with the ETag, and validates on the engine', async () => {
    const calls = mockApi({
      'GET /projects/{p}/artifacts': () => ({ body: { items: [JAR, PY, PY2] } }),
      'PATCH /projects/{p}/jobs/{j}': (r) => ({ body: { ...pythonJob, content: (r.body as { content: Schemas['JobContent'] }).content, revision: 4 } }),
    });
    const changed = vi.fn();
    renderAt(<JobEditor projectId="p1" initial={pythonJob} canWrite onJobChanged={changed} />);
    expect(screen.getByText('Python')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Validate' })).toBeTruthy();
    expect(screen.queryByLabelText('Entry class')).toBeNull();
    expect(screen.getByTestId('checked-when-deployed').textContent).toContain('up to the job graph');
    expect(screen.getByText(/Validate to run the script on the engine/)).toBeTruthy();

    const artifact = screen.getByLabelText('Artifact') as HTMLSelectElement;
    await waitFor(() => expect(options(artifact)).toHaveLength(3));
    expect(artifact.value).toBe('a2');
    expect(options(artifact).join()).not.toContain('pipeline.jar');
    const args = screen.getByLabelText('Program arguments (one per line)') as HTMLTextAreaElement;
    expect(args.value).toBe('--window\n5m');

    fireEvent.change(artifact, { target: { value: 'a3' } });
    fireEvent.change(args, { target: { value: '--window\n10m' } });
    await screen.findByTestId('dirty');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.queryByTestId('dirty')).toBeNull());

    const patch = calls.find((c) => c.method === 'PATCH')!;
    expect(patch.path).toBe('/projects/p1/jobs/j1');
    expect(patch.headers.get('if-match')).toBe('"3"');
    expect(patch.body).toEqual({ content: { kind: 'python', artifact_id: 'a3', args: ['--window', '10m'] } });
    expect(changed).toHaveBeenCalledWith(expect.objectContaining({ revision: 4 }));
    expect(calls.filter((c) => c.method !== 'GET').map((c) => c.method + ' ' + c.path)).toEqual(['PATCH /projects/p1/jobs/j1']);
  });

  it('shows a reader the script and arguments without letting them change', async () => {
    mockApi({ 'GET /projects/{p}/artifacts': () => ({ body: { items: [PY] } }) });
    renderAt(<JobEditor projectId="p1" initial={pythonJob} canWrite={false} onJobChanged={() => {}} />);
    const artifact = screen.getByLabelText('Artifact') as HTMLSelectElement;
    await waitFor(() => expect(artifact.value).toBe('a2'));
    expect(artifact.disabled).toBe(true);
    expect((screen.getByLabelText('Program arguments (one per line)') as HTMLTextAreaElement).disabled).toBe(true);
    expect(screen.queryByRole('button', { name: 'Save' })).toBeNull();
  });
});
