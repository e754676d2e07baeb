import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { ArtifactsPage } from './Artifacts';
import { mockApi } from '../test/mockApi';
import { renderInProject } from '../test/providers';

/** A stand-in for XMLHttpRequest that the test drives: progress, then an answer. */
class FakeXhr {
  static last: FakeXhr | undefined;
  method = '';
  url = '';
  withCredentials = false;
  status = 0;
  responseText = '';
  body: FormData | undefined;
  headers: Record<string, string> = {};
  private listeners: Record<string, ((e: unknown) => void)[]> = {};
  private uploadListeners: Record<string, ((e: unknown) => void)[]> = {};
  upload = {
    addEventListener: (type: string, l: (e: unknown) => void) => (this.uploadListeners[type] ??= []).push(l),
  };
  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  addEventListener(type: string, l: (e: unknown) => void) {
    (this.listeners[type] ??= []).push(l);
  }
  send(body: FormData) {
    this.body = body;
  }
  abort() {
    this.listeners.abort?.forEach((l) => l({}));
  }
  progress(loaded: number, total: number) {
    this.uploadListeners.progress?.forEach((l) => l({ loaded, total, lengthComputable: true }));
  }
  respond(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.listeners.load?.forEach((l) => l({}));
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  FakeXhr.last = undefined;
});

const SHA = 'ab'.repeat(32);

function server() {
  let uploaded = false;
  return mockApi({
    'GET /projects/{p}/artifacts': () => ({
      body: {
        items: uploaded
          ? [{ id: 'a1', project_id: 'p1', name: 'udfs.jar', kind: 'jar', size_bytes: 2048, sha256: SHA, created_at: '2026-12-01T00:00:00Z' }]
          : [],
      },
    }),
    // Not called by the page itself; lets the test flip the list once the upload is in.
    'POST /test/uploaded': () => ((uploaded = true), { body: {} }),
  });
}

function chooseFile(name = 'udfs.jar', size = 2048) {
  const file = new File([new Uint8Array(size)], name, { type: 'application/java-archive' });
  fireEvent.change(screen.getByLabelText('Upload a file'), { target: { files: [file] } });
  return file;
}

describe('the artifacts page', () => {
  it('uploads as multipart with a part named file and shows the progress events as they come', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    server();
    renderInProject(<ArtifactsPage />, { projectRole: 'editor' });
    await screen.findByText('No artifacts yet.');
    const file = chooseFile();
    const xhr = FakeXhr.last!;
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe('/api/v1/projects/p1/artifacts');
    expect(xhr.withCredentials).toBe(true);
    expect((xhr.body!.get('file') as File).name).toBe(file.name);

    const bar = screen.getByRole('progressbar', { name: 'Uploading udfs.jar' });
    expect(bar.getAttribute('aria-valuenow')).toBe('0');
    act(() => xhr.progress(512, 2048));
    expect(bar.getAttribute('aria-valuenow')).toBe('25');
    expect(screen.getByTestId('upload-progress').textContent).toContain('512 B of 2.0 KiB · 25%');
    act(() => xhr.progress(2048, 2048));
    expect(bar.getAttribute('aria-valuenow')).toBe('100');
    expect(screen.getByText(/checking and storing/)).toBeTruthy();

    await fetch('/api/v1/test/uploaded', { method: 'POST' });
    act(() => xhr.respond(201, { id: 'a1', project_id: 'p1', name: 'udfs.jar', kind: 'jar', size_bytes: 2048, sha256: SHA, created_at: '2026-12-01T00:00:00Z' }));
    const done = await screen.findByTestId('upload-done');
    expect(done.textContent).toContain(SHA);
    await waitFor(() => expect(screen.queryByRole('progressbar')).toBeNull());
    // The list is read again and shows the new artifact with its SHA-256.
    expect((await screen.findAllByText(SHA)).length).toBeGreaterThanOrEqual(1);
    expect(screen.getByRole('button', { name: 'Delete udfs.jar' })).toBeTruthy();
  });

  it('shows the API refusal next to the file input', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    server();
    renderInProject(<ArtifactsPage />, { projectRole: 'editor' });
    await screen.findByText('No artifacts yet.');
    chooseFile('notes.txt');
    act(() =>
      FakeXhr.last!.respond(422, { error: { code: 'invalid_field', message: 'an artifact must be a .jar, .zip or .py file', field: 'file.filename' } }),
    );
    const input = screen.getByLabelText('Upload a file');
    await waitFor(() => expect(input.getAttribute('aria-invalid')).toBe('true'));
    expect(document.getElementById(input.getAttribute('aria-describedby')!)!.textContent).toBe('an artifact must be a .jar, .zip or .py file');
  });

  it('cancels an upload in flight', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    server();
    renderInProject(<ArtifactsPage />, { projectRole: 'editor' });
    await screen.findByText('No artifacts yet.');
    chooseFile();
    act(() => FakeXhr.last!.progress(100, 2048));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(await screen.findByText('Upload cancelled.')).toBeTruthy();
    expect(screen.queryByRole('progressbar')).toBeNull();
  });

  it('offers viewers no upload or delete', async () => {
    mockApi({
      'GET /projects/{p}/artifacts': () => ({
        body: { items: [{ id: 'a1', project_id: 'p1', name: 'udfs.jar', kind: 'jar', size_bytes: 2048, sha256: SHA, created_at: '2026-12-01T00:00:00Z' }] },
      }),
    });
    renderInProject(<ArtifactsPage />, { projectRole: 'viewer', accountRole: 'member' });
    await screen.findByText(SHA);
    expect(screen.queryByLabelText('Upload a file')).toBeNull();
    expect(screen.queryByRole('button', { name: /Delete/ })).toBeNull();
  });
});
