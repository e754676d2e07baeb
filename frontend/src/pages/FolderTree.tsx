// The project's folders and jobs as a tree: create, rename, move (by menu or by dragging)
// and delete. By keyboard it is one tab stop: arrow keys move between items (Right and
// Left open and close folders), Enter opens a job or a folder, Tab reaches the item's
// actions menu (also Shift+F10 or the context-menu key).
import { useEffect, useMemo, useRef, useState, type DragEvent, type FocusEvent, type KeyboardEvent } from 'react';
import { useNavigate } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { ArtifactPicker } from './ArtifactPicker';
import { ConfirmDialog, ErrorNote, Field, FormDialog, Menu, fieldError } from '../components/ui';

export type Folder = Schemas['Folder'];
export type Job = Schemas['Job'];

interface Node {
  folder: Folder | null;
  folders: Node[];
  jobs: Job[];
}

function buildTree(folders: Folder[], jobs: Job[]): Node {
  const nodes = new Map<string, Node>();
  for (const f of folders) nodes.set(f.id, { folder: f, folders: [], jobs: [] });
  const root: Node = { folder: null, folders: [], jobs: [] };
  for (const f of folders) (nodes.get(f.parent_id ?? '') ?? root).folders.push(nodes.get(f.id)!);
  for (const j of jobs) (nodes.get(j.folder_id ?? '') ?? root).jobs.push(j);
  const sort = (n: Node) => {
    n.folders.sort((a, b) => a.folder!.name.localeCompare(b.folder!.name));
    n.jobs.sort((a, b) => a.name.localeCompare(b.name));
    n.folders.forEach(sort);
  };
  sort(root);
  return root;
}

/** Every folder with its path, for the "move to" and "create in" pickers. */
function folderPaths(folders: Folder[]): { id: string; path: string }[] {
  const byId = new Map(folders.map((f) => [f.id, f]));
  const path = (f: Folder): string => {
    const parent = f.parent_id ? byId.get(f.parent_id) : undefined;
    return parent ? `${path(parent)} / ${f.name}` : f.name;
  };
  return folders.map((f) => ({ id: f.id, path: path(f) })).sort((a, b) => a.path.localeCompare(b.path));
}

/** Folders a folder may move into: not itself nor anything under it. */
function descendants(folders: Folder[], id: string): Set<string> {
  const out = new Set<string>([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const f of folders)
      if (f.parent_id && out.has(f.parent_id) && !out.has(f.id)) {
        out.add(f.id);
        grew = true;
      }
  }
  return out;
}

type Action =
  | { kind: 'new-folder'; parentId: string | null }
  | { kind: 'new-job'; folderId: string | null }
  | { kind: 'rename'; target: { folder: Folder } | { job: Job } }
  | { kind: 'move'; target: { folder: Folder } | { job: Job } }
  | { kind: 'delete'; target: { folder: Folder } | { job: Job } };

export function FolderTree({
  projectId,
  folders,
  jobs,
  selectedJobId,
  canWrite,
  onChanged,
}: {
  projectId: string;
  folders: Folder[];
  jobs: Job[];
  selectedJobId?: string;
  canWrite: boolean;
  onChanged: () => Promise<void>;
}) {
  const tree = useMemo(() => buildTree(folders, jobs), [folders, jobs]);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [action, setAction] = useState<Action>();
  const [dropTarget, setDropTarget] = useState<string | null | undefined>();
  const [dragError, setDragError] = useState<unknown>();
  const navigate = useNavigate();
  const close = () => setAction(undefined);

  // Drag and drop does what "Move to…" does; the menu stays for keyboards.
  const dragData = (e: DragEvent, kind: 'job' | 'folder', id: string) => {
    e.dataTransfer.setData('application/x-sluice-tree', JSON.stringify({ kind, id }));
    e.dataTransfer.effectAllowed = 'move';
  };
  const dropProps = (folderId: string | null) =>
    canWrite
      ? {
          onDragOver: (e: DragEvent) => {
            if (!e.dataTransfer.types.includes('application/x-sluice-tree')) return;
            e.preventDefault();
            e.stopPropagation();
            setDropTarget(folderId);
          },
          onDragLeave: () => setDropTarget(undefined),
          onDrop: async (e: DragEvent) => {
            e.preventDefault();
            e.stopPropagation();
            setDropTarget(undefined);
            const raw = e.dataTransfer.getData('application/x-sluice-tree');
            if (!raw) return;
            const { kind, id } = JSON.parse(raw) as { kind: 'job' | 'folder'; id: string };
            try {
              setDragError(undefined);
              if (kind === 'job') {
                const j = jobs.find((x) => x.id === id);
                if (!j || (j.folder_id ?? null) === folderId) return;
                await patchJob(projectId, j, { folder_id: folderId });
              } else {
                const f = folders.find((x) => x.id === id);
                if (!f || (f.parent_id ?? null) === folderId || (folderId && descendants(folders, id).has(folderId))) return;
                await call(api.PATCH('/projects/{project_id}/folders/{folder_id}', { params: { path: { project_id: projectId, folder_id: id } }, body: { parent_id: folderId } }));
              }
              await onChanged();
            } catch (err) {
              setDragError(err);
            }
          },
        }
      : {};

  const toggle = (id: string, open: boolean) =>
    setCollapsed((s) => {
      const next = new Set(s);
      if (open) next.delete(id);
      else next.add(id);
      return next;
    });

  // One item of the tree is a tab stop (roving tabindex): the one last focused if it is
  // still shown, else the open job, else the first. Arrow keys move between items.
  const [active, setActive] = useState<string>();
  const treeRef = useRef<HTMLDivElement>(null);
  const shownKeys = useMemo(() => {
    const out: string[] = [];
    const walk = (n: Node) => {
      for (const c of n.folders) {
        out.push('folder:' + c.folder!.id);
        if (!collapsed.has(c.folder!.id)) walk(c);
      }
      for (const j of n.jobs) out.push('job:' + j.id);
    };
    walk(tree);
    return out;
  }, [tree, collapsed]);
  const tabStop =
    active && shownKeys.includes(active) ? active : selectedJobId && shownKeys.includes('job:' + selectedJobId) ? 'job:' + selectedJobId : shownKeys[0];
  const itemProps = (key: string, level: number) => ({
    role: 'treeitem',
    'aria-level': level,
    'data-key': key,
    tabIndex: key === tabStop ? 0 : -1,
    onFocus: (e: FocusEvent) => e.target === e.currentTarget && setActive(key),
  });
  const onTreeKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const item = e.target as HTMLElement;
    if (item.getAttribute('role') !== 'treeitem') return;
    const items = [...treeRef.current!.querySelectorAll<HTMLElement>('[role="treeitem"]')];
    const at = items.indexOf(item);
    const level = Number(item.getAttribute('aria-level'));
    const key = item.dataset.key!;
    const folderId = key.startsWith('folder:') ? key.slice('folder:'.length) : undefined;
    const expanded = item.getAttribute('aria-expanded') === 'true';
    const focus = (el: HTMLElement | undefined) => el?.focus();
    const moves: Record<string, () => void> = {
      ArrowDown: () => focus(items[at + 1]),
      ArrowUp: () => focus(items[at - 1]),
      Home: () => focus(items[0]),
      End: () => focus(items.at(-1)),
      ArrowRight: () => {
        if (folderId && !expanded) toggle(folderId, true);
        else if (folderId && Number(items[at + 1]?.getAttribute('aria-level')) > level) focus(items[at + 1]);
      },
      ArrowLeft: () => {
        if (folderId && expanded) toggle(folderId, false);
        else focus(items.slice(0, at).reverse().find((x) => Number(x.getAttribute('aria-level')) < level));
      },
      Enter: () => item.click(),
      ' ': () => item.click(),
      // The item's menu, as a right click would offer elsewhere.
      ContextMenu: () => item.querySelector<HTMLButtonElement>('.more')?.click(),
      F10: () => e.shiftKey && item.querySelector<HTMLButtonElement>('.more')?.click(),
    };
    const move = moves[e.key];
    if (!move || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    move();
  };

  const renderNode = (n: Node, depth: number) => (
    <ul role={depth === 0 ? 'none' : 'group'}>
      {n.folders.map((child) => {
        const f = child.folder!;
        const open = !collapsed.has(f.id);
        const key = 'folder:' + f.id;
        return (
          <li key={f.id} role="none">
            <div
              className={'tree-item' + (dropTarget === f.id ? ' drop' : '')}
              style={{ paddingLeft: 8 + depth * 14 }}
              {...itemProps(key, depth + 1)}
              aria-expanded={open}
              aria-label={f.name}
              draggable={canWrite}
              onDragStart={(e) => dragData(e, 'folder', f.id)}
              {...dropProps(f.id)}
              onClick={() => toggle(f.id, !open)}
            >
              <span className="glyph" aria-hidden="true">
                {open ? '▾' : '▸'}
              </span>
              <span className="name">{f.name}</span>
              {canWrite && (
                <Menu label={<span aria-hidden="true">⋯</span>} title={`Actions for folder ${f.name}`} tabIndex={key === tabStop ? 0 : -1}>
                  {(done) => (
                    <>
                      <button role="menuitem" onClick={() => (done(), setAction({ kind: 'new-job', folderId: f.id }))}>New job here</button>
                      <button role="menuitem" onClick={() => (done(), setAction({ kind: 'new-folder', parentId: f.id }))}>New folder here</button>
                      <hr />
                      <button role="menuitem" onClick={() => (done(), setAction({ kind: 'rename', target: { folder: f } }))}>Rename</button>
                      <button role="menuitem" onClick={() => (done(), setAction({ kind: 'move', target: { folder: f } }))}>Move to…</button>
                      <button role="menuitem" onClick={() => (done(), setAction({ kind: 'delete', target: { folder: f } }))}>Delete</button>
                    </>
                  )}
                </Menu>
              )}
            </div>
            {open && renderNode(child, depth + 1)}
          </li>
        );
      })}
      {n.jobs.map((j) => {
        const key = 'job:' + j.id;
        const glyph = { sql: 'SQL', jar: 'JAR', python: 'PY' }[j.content.kind];
        return (
          <li key={j.id} role="none">
            <div
              className={'tree-item' + (j.id === selectedJobId ? ' selected' : '')}
              style={{ paddingLeft: 8 + depth * 14 }}
              {...itemProps(key, depth + 1)}
              aria-selected={j.id === selectedJobId}
              // Named as it reads: its kind, then its name.
              aria-label={`${glyph} ${j.name}`}
              draggable={canWrite}
              onDragStart={(e) => dragData(e, 'job', j.id)}
              data-testid={`tree-job-${j.name}`}
              onClick={() => navigate(`/projects/${projectId}/jobs/${j.id}`)}
            >
              <span className="glyph" aria-hidden="true">
                {glyph}
              </span>{' '}
              <span className="name">{j.name}</span>
              {canWrite && (
                <Menu label={<span aria-hidden="true">⋯</span>} title={`Actions for job ${j.name}`} tabIndex={key === tabStop ? 0 : -1}>
                  {(done) => (
                    <>
                      <button role="menuitem" onClick={() => (done(), setAction({ kind: 'rename', target: { job: j } }))}>Rename</button>
                      <button role="menuitem" onClick={() => (done(), setAction({ kind: 'move', target: { job: j } }))}>Move to…</button>
                      <button role="menuitem" onClick={() => (done(), setAction({ kind: 'delete', target: { job: j } }))}>Delete</button>
                    </>
                  )}
                </Menu>
              )}
            </div>
          </li>
        );
      })}
    </ul>
  );

  return (
    <aside className="tree" aria-label="Jobs and folders">
      <div className="tree-head">
        <strong>Jobs</strong>
        {canWrite && (
          <>
            <button className="small" onClick={() => setAction({ kind: 'new-job', folderId: null })}>
              + Job
            </button>
            <button className="small" onClick={() => setAction({ kind: 'new-folder', parentId: null })}>
              + Folder
            </button>
          </>
        )}
      </div>
      {folders.length === 0 && jobs.length === 0 && <div className="empty small">No jobs yet.</div>}
      {dragError !== undefined && (
        <div style={{ padding: '0 8px' }}>
          <ErrorNote error={dragError} />
        </div>
      )}
      {/* The tree's own background is the project root as a drop target. */}
      <div
        ref={treeRef}
        role="tree"
        aria-label="Jobs and folders"
        className={'tree-body' + (dropTarget === null ? ' drop' : '')}
        onKeyDown={onTreeKey}
        {...dropProps(null)}
      >
        {renderNode(tree, 0)}
      </div>
      {action?.kind === 'new-folder' && (
        <NameDialog
          title="New folder"
          submitLabel="Create"
          onClose={close}
          onSubmit={async (name) => {
            await call(api.POST('/projects/{project_id}/folders', { params: { path: { project_id: projectId } }, body: { name, parent_id: action.parentId } }));
            await onChanged();
          }}
        />
      )}
      {action?.kind === 'new-job' && (
        <NewJobDialog
          projectId={projectId}
          folderId={action.folderId}
          folders={folders}
          onClose={close}
          onCreated={async (job) => {
            await onChanged();
            navigate(`/projects/${projectId}/jobs/${job.id}`);
          }}
        />
      )}
      {action?.kind === 'rename' && (
        <NameDialog
          title="Rename"
          submitLabel="Rename"
          initial={'folder' in action.target ? action.target.folder.name : action.target.job.name}
          onClose={close}
          onSubmit={async (name) => {
            const t = action.target;
            if ('folder' in t)
              await call(api.PATCH('/projects/{project_id}/folders/{folder_id}', { params: { path: { project_id: projectId, folder_id: t.folder.id } }, body: { name } }));
            else await patchJob(projectId, t.job, { name });
            await onChanged();
          }}
        />
      )}
      {action?.kind === 'move' && (
        <MoveDialog
          folders={folders}
          target={action.target}
          onClose={close}
          onMove={async (to) => {
            const t = action.target;
            if ('folder' in t)
              await call(api.PATCH('/projects/{project_id}/folders/{folder_id}', { params: { path: { project_id: projectId, folder_id: t.folder.id } }, body: { parent_id: to } }));
            else await patchJob(projectId, t.job, { folder_id: to });
            await onChanged();
          }}
        />
      )}
      {action?.kind === 'delete' && (
        <ConfirmDialog
          title={'folder' in action.target ? `Delete folder ${action.target.folder.name}?` : `Delete job ${action.target.job.name}?`}
          message={
            'folder' in action.target
              ? 'The folder is deleted. A folder that still holds jobs or folders cannot be deleted: empty it first.'
              : 'The job, its draft and all its saved versions are deleted. Deployments of it must be deleted first.'
          }
          confirmLabel="Delete"
          onClose={close}
          onConfirm={async () => {
            const t = action.target;
            if ('folder' in t)
              await call(api.DELETE('/projects/{project_id}/folders/{folder_id}', { params: { path: { project_id: projectId, folder_id: t.folder.id } } }));
            else {
              await call(api.DELETE('/projects/{project_id}/jobs/{job_id}', { params: { path: { project_id: projectId, job_id: t.job.id } } }));
              if (t.job.id === selectedJobId) navigate(`/projects/${projectId}/jobs`);
            }
            await onChanged();
          }}
        />
      )}
    </aside>
  );
}

/** Renames and moves go through the same ETag check as edits. */
async function patchJob(projectId: string, job: Job, body: Schemas['UpdateJob']): Promise<void> {
  await call(
    api.PATCH('/projects/{project_id}/jobs/{job_id}', {
      params: { path: { project_id: projectId, job_id: job.id }, header: { 'If-Match': `"${job.revision}"` } },
      body,
    }),
  );
}

function NameDialog({
  title,
  submitLabel,
  initial = '',
  onClose,
  onSubmit,
}: {
  title: string;
  submitLabel: string;
  initial?: string;
  onClose: () => void;
  onSubmit: (name: string) => Promise<void>;
}) {
  const [name, setName] = useState(initial);
  return (
    <FormDialog
      title={title}
      onClose={onClose}
      submitLabel={submitLabel}
      disabled={!name.trim()}
      form
      fields={['name']}
      onSubmit={async () => {
        await onSubmit(name.trim());
        onClose();
      }}
    >
      {(error) => (
        <Field label="Name" error={fieldError(error, 'name')}>
          {(p) => <input {...p} autoFocus value={name} onChange={(e) => setName(e.target.value)} style={{ width: '100%' }} />}
        </Field>
      )}
    </FormDialog>
  );
}

function MoveDialog({
  folders,
  target,
  onClose,
  onMove,
}: {
  folders: Folder[];
  target: { folder: Folder } | { job: Job };
  onClose: () => void;
  onMove: (to: string | null) => Promise<void>;
}) {
  const current = 'folder' in target ? target.folder.parent_id : target.job.folder_id;
  const [to, setTo] = useState<string>(current ?? '');
  const excluded = 'folder' in target ? descendants(folders, target.folder.id) : new Set<string>();
  const options = folderPaths(folders).filter((f) => !excluded.has(f.id));
  return (
    <FormDialog
      title={`Move ${'folder' in target ? target.folder.name : target.job.name}`}
      onClose={onClose}
      submitLabel="Move"
      disabled={to === (current ?? '')}
      fields={['parent_id', 'folder_id']}
      onSubmit={async () => {
        await onMove(to || null);
        onClose();
      }}
    >
      {(error) => (
        <Field label="Destination" error={fieldError(error, 'parent_id') ?? fieldError(error, 'folder_id')}>
          {(p) => (
            <select {...p} value={to} onChange={(e) => setTo(e.target.value)} style={{ width: '100%' }}>
              <option value="">Project root</option>
              {options.map((f) => (
                <option key={f.id} value={f.id}>
                  {f.path}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
    </FormDialog>
  );
}

const STARTER_SQL = `-- A Flink SQL job: declare tables, then INSERT INTO a sink.
CREATE TEMPORARY TABLE src (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '5');
CREATE TEMPORARY TABLE snk (n BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT n FROM src;
`;

export function NewJobDialog({
  projectId,
  folderId,
  folders,
  onClose,
  onCreated,
}: {
  projectId: string;
  folderId: string | null;
  folders: Folder[];
  onClose: () => void;
  onCreated: (job: Job) => Promise<void>;
}) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<Schemas['JobContent']['kind']>('sql');
  const [folder, setFolder] = useState(folderId ?? '');
  const [artifactId, setArtifactId] = useState('');
  const [entryClass, setEntryClass] = useState('');
  const [args, setArgs] = useState<string[]>([]);
  const submit = async () => {
    const content: Schemas['JobContent'] =
      kind === 'sql'
        ? { kind: 'sql', sql: STARTER_SQL }
        : kind === 'jar'
          ? { kind: 'jar', artifact_id: artifactId, entry_class: entryClass, args }
          : { kind: 'python', artifact_id: artifactId, args };
    const job = await call(
      api.POST('/projects/{project_id}/jobs', {
        params: { path: { project_id: projectId } },
        body: { name: name.trim(), folder_id: folder || null, content },
      }),
    );
    onClose();
    await onCreated(job);
  };
  return (
    <FormDialog
      title="New job"
      onClose={onClose}
      submitLabel="Create"
      disabled={!name.trim() || (kind === 'jar' && (!artifactId || !entryClass)) || (kind === 'python' && !artifactId)}
      form
      fields={['name', 'folder_id', 'content', 'content.artifact_id', 'content.entry_class', 'content.args', 'artifact_id', 'entry_class']}
      onSubmit={submit}
    >
      {(error) => (
        <>
          <Field label="Name" error={fieldError(error, 'name')}>
            {(p) => <input {...p} autoFocus value={name} onChange={(e) => setName(e.target.value)} style={{ width: '100%' }} />}
          </Field>
          <div className="fields-2">
            <Field label="Type">
              {(p) => (
                <select
                  {...p}
                  value={kind}
                  onChange={(e) => {
                    // A JAR and a Python script are different artifacts: the choice starts over.
                    setKind(e.target.value as Schemas['JobContent']['kind']);
                    setArtifactId('');
                  }}
                >
                  <option value="sql">Flink SQL</option>
                  <option value="jar">JAR program</option>
                  <option value="python">Python (PyFlink) script</option>
                </select>
              )}
            </Field>
            <Field label="Folder" error={fieldError(error, 'folder_id')}>
              {(p) => (
                <select {...p} value={folder} onChange={(e) => setFolder(e.target.value)}>
                  <option value="">Project root</option>
                  {folderPaths(folders).map((f) => (
                    <option key={f.id} value={f.id}>
                      {f.path}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          {kind === 'jar' && (
            <JarFields
              projectId={projectId}
              artifactId={artifactId}
              entryClass={entryClass}
              onArtifact={setArtifactId}
              onEntryClass={setEntryClass}
              error={error}
            />
          )}
          {kind === 'jar' && <ArgsField args={args} onArgs={setArgs} error={error} />}
          {kind === 'python' && <PythonFields projectId={projectId} artifactId={artifactId} args={args} onArtifact={setArtifactId} onArgs={setArgs} error={error} />}
        </>
      )}
    </FormDialog>
  );
}

/** The artifact picker and entry class of a JAR job. */
export function JarFields({
  projectId,
  artifactId,
  entryClass,
  onArtifact,
  onEntryClass,
  error,
  disabled,
}: {
  projectId: string;
  artifactId: string;
  entryClass: string;
  onArtifact: (id: string) => void;
  onEntryClass: (c: string) => void;
  error?: unknown;
  disabled?: boolean;
}) {
  return (
    <>
      <ArtifactPicker projectId={projectId} value={artifactId} onChange={onArtifact} error={fieldError(error, 'content.artifact_id') ?? fieldError(error, 'artifact_id')} disabled={disabled} />
      <Field label="Entry class" error={fieldError(error, 'content.entry_class') ?? fieldError(error, 'entry_class')}>
        {(p) => (
          <input {...p} value={entryClass} disabled={disabled} placeholder="com.example.StreamingJob" onChange={(e) => onEntryClass(e.target.value)} style={{ width: '100%' }} />
        )}
      </Field>
    </>
  );
}


const parseArgs = (text: string) => text.split('\n').filter((a) => a !== '');

/**
 * The arguments of a JAR or Python job, one per line; blank lines are dropped. The text
 * is kept as typed (a new line being started stays), and follows `args` when they change
 * from outside (a rollback, the server's version taken).
 */
export function ArgsField({
  args,
  onArgs,
  hint,
  error,
  disabled,
}: {
  args: string[];
  onArgs: (args: string[]) => void;
  hint?: string;
  error?: unknown;
  disabled?: boolean;
}) {
  const [text, setText] = useState(args.join('\n'));
  useEffect(() => {
    setText((t) => (JSON.stringify(parseArgs(t)) === JSON.stringify(args) ? t : args.join('\n')));
  }, [args]);
  return (
    <Field label="Program arguments (one per line)" hint={hint} error={fieldError(error, 'content.args') ?? fieldError(error, 'args')}>
      {(p) => (
        <textarea
          {...p}
          rows={4}
          disabled={disabled}
          style={{ width: '100%', fontFamily: 'var(--mono)' }}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            onArgs(parseArgs(e.target.value));
          }}
        />
      )}
    </Field>
  );
}

/** The Python artifact and arguments of a Python job (a PyFlink script: no entry class). */
export function PythonFields({
  projectId,
  artifactId,
  args,
  onArtifact,
  onArgs,
  error,
  disabled,
}: {
  projectId: string;
  artifactId: string;
  args: string[];
  onArtifact: (id: string) => void;
  onArgs: (args: string[]) => void;
  error?: unknown;
  disabled?: boolean;
}) {
  return (
    <>
      <ArtifactPicker
        projectId={projectId}
        kind="python"
        value={artifactId}
        onChange={onArtifact}
        error={fieldError(error, 'content.artifact_id') ?? fieldError(error, 'artifact_id')}
        disabled={disabled}
      />
      <ArgsField args={args} onArgs={onArgs} hint="The script reads them as sys.argv[1:]." error={error} disabled={disabled} />
    </>
  );
}
