import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
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
    'GET /projects/{p}/functions': () => ({ body: { items: [] } }),
    // Not called by the page itself; lets the test flip the list once the upload is in.
    'POST /test/uploaded': () => ((uploaded = true), { body: {} }),
  });
}

const JAR = { id: 'a1', project_id: 'p1', name: 'udfs.jar', kind: 'jar', size_bytes: 2048, sha256: SHA, created_at: '2026-12-01T00:00:00Z' };
const PY = { id: 'a2', project_id: 'p1', name: 'tools.py', kind: 'python', size_bytes: 100, sha256: 'cd'.repeat(32), created_at: '2026-12-01T00:00:00Z' };
const FUNCTIONS = [
  { name: 'to_upper', artifact_id: 'a1', class_name: 'com.acme.udf.ToUpper', kind: 'scalar', registered_at: '2026-12-02T00:00:00Z' },
  { name: 'split_words', artifact_id: 'a1', class_name: 'com.acme.udf.SplitWords', kind: 'table', registered_at: '2026-12-02T00:00:00Z' },
];

/** A project with a JAR and a Python file; `registered` says whether the JAR is a UDF artifact. */
function udfServer({ registered = false, put, del }: { registered?: boolean; put?: () => { status: number; body: unknown }; del?: () => { status: number; body?: unknown } } = {}) {
  let functions = registered ? FUNCTIONS : [];
  return mockApi({
    'GET /projects/{p}/artifacts': () => ({ body: { items: [JAR, PY] } }),
    'GET /projects/{p}/functions': () => ({ body: { items: functions } }),
    'PUT /projects/{p}/artifacts/{a}/functions': () => {
      const out = put?.() ?? { status: 200, body: { artifact_id: 'a1', functions: FUNCTIONS } };
      if (out.status === 200) functions = FUNCTIONS;
      return out;
    },
    'DELETE /projects/{p}/artifacts/{a}/functions': () => {
      const out = del?.() ?? { status: 204 };
      if (out.status === 204) functions = [];
      return out;
    },
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

  it('offers viewers no upload, delete or registration, but shows the functions', async () => {
    udfServer({ registered: true });
    renderInProject(<ArtifactsPage />, { projectRole: 'viewer', accountRole: 'member' });
    await screen.findByText(SHA);
    expect(screen.queryByLabelText('Upload a file')).toBeNull();
    expect(screen.queryByRole('button', { name: /Delete/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /Register as UDF|Read again|Unregister|Replace/ })).toBeNull();
    fireEvent.click(await screen.findByRole('button', { name: 'Functions of udfs.jar' }));
    expect(within(screen.getByTestId('functions-a1')).getByText('com.acme.udf.ToUpper')).toBeTruthy();
  });
});

describe('UDF artifacts', () => {
  it('registers a JAR as a UDF artifact and lists the functions found: name, kind, class', async () => {
    const calls = udfServer();
    renderInProject(<ArtifactsPage />, { projectRole: 'editor' });
    const register = await screen.findByRole('button', { name: 'Register as UDF: udfs.jar' });
    // Only a JAR can be a UDF artifact.
    expect(screen.queryByRole('button', { name: /: tools\.py$/ })).toBeNull();
    expect(screen.getByText('Not a UDF artifact')).toBeTruthy();

    fireEvent.click(register);
    const table = await screen.findByTestId('functions-a1');
    const rows = within(table).getAllByRole('row').slice(1).map((r) => Array.from(r.querySelectorAll('td')).slice(0, 3).map((td) => td.textContent));
    expect(rows).toEqual([
      ['to_upper', 'scalar', 'com.acme.udf.ToUpper'],
      ['split_words', 'table', 'com.acme.udf.SplitWords'],
    ]);
    expect(calls.filter((c) => c.method === 'PUT').map((c) => c.path)).toEqual(['/projects/p1/artifacts/a1/functions']);
    const toggle = screen.getByRole('button', { name: 'Functions of udfs.jar' });
    expect(toggle.textContent).toContain('2 functions');
    expect(toggle.getAttribute('aria-expanded')).toBe('true');

    // Registered: the action reads the JAR again, and the row folds away.
    fireEvent.click(screen.getByRole('button', { name: 'Read again: udfs.jar' }));
    await waitFor(() => expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(2));
    fireEvent.click(toggle);
    await waitFor(() => expect(screen.queryByTestId('functions-a1')).toBeNull());
  });

  it("shows the API's refusal in the artifact's row, in the API's words", async () => {
    const message = 'functions of this project already have these names: `to_upper` (from `old-udfs.jar`); unregister that artifact\'s functions first';
    udfServer({ put: () => ({ status: 409, body: { error: { code: 'already_exists', message, field: 'artifact_id' } } }) });
    renderInProject(<ArtifactsPage />, { projectRole: 'editor' });
    fireEvent.click(await screen.findByRole('button', { name: 'Register as UDF: udfs.jar' }));
    const alert = await screen.findByRole('alert');
    // The artifact's name, then the message (not the path parameter's name).
    expect(alert.textContent).toBe(`udfs.jar: ${message}`);
    expect(screen.getByRole('button', { name: 'Register as UDF: udfs.jar' })).toBeTruthy();
    expect(screen.queryByTestId('functions-a1')).toBeNull();
  });

  it('unregisters after asking, and says which deployment holds it when refused', async () => {
    let refuse = true;
    const calls = udfServer({
      registered: true,
      del: () =>
        refuse
          ? { status: 409, body: { error: { code: 'in_use', message: 'these deployments use the artifact: clicks-prod; delete them or deploy versions that do not use it first' } } }
          : { status: 204 },
    });
    renderInProject(<ArtifactsPage />, { projectRole: 'editor' });
    fireEvent.click(await screen.findByRole('button', { name: 'Unregister udfs.jar' }));
    const dialog = screen.getByRole('dialog', { name: 'Unregister the functions of udfs.jar?' });
    expect(dialog.textContent).toContain('to_upper, split_words');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Unregister' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe(
      'these deployments use the artifact: clicks-prod; delete them or deploy versions that do not use it first',
    );

    refuse = false;
    fireEvent.click(within(dialog).getByRole('button', { name: 'Unregister' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(await screen.findByRole('button', { name: 'Register as UDF: udfs.jar' })).toBeTruthy();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/projects/p1/artifacts/a1/functions', '/projects/p1/artifacts/a1/functions']);
  });
});

describe('replacing an artifact\'s content', () => {
  const NEW_SHA = 'ef'.repeat(32);
  /** A project whose JAR is a UDF artifact; a replacement brings a third function. */
  function replaceServer() {
    let jar = JAR;
    let functions = FUNCTIONS;
    const calls = mockApi({
      'GET /projects/{p}/artifacts': () => ({ body: { items: [jar, PY] } }),
      'GET /projects/{p}/functions': () => ({ body: { items: functions } }),
      // Not called by the page itself: the server's side of a replacement that went through.
      'POST /test/replaced': () => {
        jar = { ...JAR, size_bytes: 4096, sha256: NEW_SHA };
        functions = [...FUNCTIONS, { name: 'count_chars', artifact_id: 'a1', class_name: 'com.acme.udf.CountChars', kind: 'aggregate', registered_at: '2026-12-03T00:00:00Z' }];
        return { body: {} };
      },
    });
    return calls;
  }

  it('sends the new file with PUT to the content endpoint, shows progress, then the new size, SHA-256 and functions', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const calls = replaceServer();
    renderInProject(<ArtifactsPage />, { projectRole: 'editor' });
    expect(await screen.findByRole('button', { name: 'Functions of udfs.jar' })).toBeTruthy();
    const input = screen.getByLabelText('New content for udfs.jar');
    // Only a file of the artifact's own kind is offered.
    expect(input.getAttribute('accept')).toBe('.jar');
    expect(screen.getByLabelText('New content for tools.py').getAttribute('accept')).toBe('.py');
    const file = new File([new Uint8Array(4096)], 'udfs-2.jar', { type: 'application/java-archive' });
    fireEvent.change(input, { target: { files: [file] } });

    const xhr = FakeXhr.last!;
    expect(xhr.method).toBe('PUT');
    expect(xhr.url).toBe('/api/v1/projects/p1/artifacts/a1/content');
    expect(xhr.withCredentials).toBe(true);
    expect((xhr.body!.get('file') as File).name).toBe('udfs-2.jar');
    const bar = screen.getByRole('progressbar', { name: 'Replacing udfs.jar' });
    act(() => xhr.progress(1024, 4096));
    expect(bar.getAttribute('aria-valuenow')).toBe('25');
    expect(screen.getByTestId('replace-progress-a1').textContent).toContain('1.0 KiB of 4.0 KiB · 25%');
    // One replacement at a time.
    expect((screen.getByRole('button', { name: 'Replace tools.py' }) as HTMLButtonElement).disabled).toBe(true);
    act(() => xhr.progress(4096, 4096));
    expect(screen.getByText(/reading its functions again/)).toBeTruthy();

    const functionReads = calls.filter((c) => c.method === 'GET' && c.path === '/projects/p1/functions').length;
    await fetch('/api/v1/test/replaced', { method: 'POST' });
    act(() => xhr.respond(200, { ...JAR, size_bytes: 4096, sha256: NEW_SHA }));
    expect((await screen.findByTestId('replaced-a1')).textContent).toContain(NEW_SHA);
    await waitFor(() => expect(screen.queryByRole('progressbar')).toBeNull());
    // The row is read again (same name, new size and SHA-256), and so are the functions.
    const row = screen.getByRole('link', { name: 'udfs.jar' }).closest('tr')!;
    await waitFor(() => expect(row.textContent).toContain(NEW_SHA));
    expect(row.textContent).toContain('4.0 KiB');
    await waitFor(() => expect(screen.getByRole('button', { name: 'Functions of udfs.jar' }).textContent).toContain('3 functions'));
    expect(calls.filter((c) => c.method === 'GET' && c.path === '/projects/p1/functions').length).toBeGreaterThan(functionReads);
  });

  it("shows the API's refusal in the row and leaves the artifact as it was", async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    replaceServer();
    renderInProject(<ArtifactsPage />, { projectRole: 'editor' });
    await screen.findByRole('button', { name: 'Functions of udfs.jar' });
    fireEvent.change(screen.getByLabelText('New content for udfs.jar'), { target: { files: [new File([new Uint8Array(10)], 'udfs.zip')] } });
    const message = '`udfs.zip` is a zip file; the new content of `udfs.jar` must be one too';
    act(() => FakeXhr.last!.respond(422, { error: { code: 'invalid_field', message, field: 'file.filename' } }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(`udfs.jar: ${message}`);
    expect(alert.closest('tr')!.className).toBe('detail-row');
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.queryByTestId('replaced-a1')).toBeNull();
    expect(screen.getByRole('link', { name: 'udfs.jar' }).closest('tr')!.textContent).toContain(SHA);
    expect((screen.getByRole('button', { name: 'Replace udfs.jar' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows a refused UDF replacement (no function class) in the API\'s words, the functions unchanged', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    replaceServer();
    renderInProject(<ArtifactsPage />, { projectRole: 'editor' });
    await screen.findByRole('button', { name: 'Functions of udfs.jar' });
    fireEvent.change(screen.getByLabelText('New content for udfs.jar'), { target: { files: [new File([new Uint8Array(10)], 'empty.jar')] } });
    const message = '`udfs.jar` holds no function class (a public subclass of ScalarFunction, TableFunction or AggregateFunction)';
    act(() => FakeXhr.last!.respond(422, { error: { code: 'invalid_field', message, field: 'artifact_id' } }));
    expect((await screen.findByRole('alert')).textContent).toBe(`udfs.jar: ${message}`);
    expect(screen.getByRole('button', { name: 'Functions of udfs.jar' }).textContent).toContain('2 functions');
  });
});
