// A project's connections: the data stores its jobs read and write. Properties are
// plain; secret properties (passwords, keys, tokens) are write-only: the API stores them
// encrypted and only ever says which keys are set, so the console never shows or
// pre-fills them — it can set a new value, keep the old one, or remove it.
import { useState } from 'react';
import { useParams } from 'react-router';
import { ApiError, api, call, type Schemas } from '../api/client';
import { toast } from '../components/toast';
import { DataTable, pagedRows } from '../components/DataTable';
import { ConfirmDialog, Field, FormDialog, fieldError } from '../components/ui';
import { formatTime } from '../lib/dates';
import { usePaged } from '../lib/hooks';
import { NAME_RULE, nameProblem } from '../lib/names';
import { useProject } from '../project';
import { atLeast } from '../session';

type Connection = Schemas['Connection'];
type Kind = Schemas['ConnectionKind'];

const KINDS: Kind[] = ['kafka', 'mysql', 'postgres', 'elasticsearch', 'redis', 'mongodb', 'hologres', 'jdbc', 's3'];

/** Keys people usually need for each kind, offered (empty) on a new connection. */
const TEMPLATES: Record<Kind, { properties: string[]; secrets: string[] }> = {
  kafka: { properties: ['properties.bootstrap.servers'], secrets: ['properties.sasl.jaas.config'] },
  mysql: { properties: ['hostname', 'port', 'username'], secrets: ['password'] },
  postgres: { properties: ['hostname', 'port', 'username', 'database-name'], secrets: ['password'] },
  elasticsearch: { properties: ['hosts', 'username'], secrets: ['password'] },
  redis: { properties: ['host', 'port'], secrets: ['password'] },
  mongodb: { properties: ['uri', 'database'], secrets: ['password'] },
  hologres: { properties: ['endpoint', 'dbname', 'username'], secrets: ['password'] },
  jdbc: { properties: ['url', 'username'], secrets: ['password'] },
  s3: { properties: ['endpoint', 'bucket', 'access-key'], secrets: ['secret-key'] },
};

interface PropRow {
  key: string;
  value: string;
}

/** A secret row: an existing key (`set`) keeps its value unless replaced or removed. */
interface SecretRow {
  key: string;
  value: string;
  existing: boolean;
  remove: boolean;
}

function ConnectionDialog({ projectId, editing, onClose, onSaved }: {
  projectId: string;
  editing?: Connection;
  onClose: () => void;
  onSaved: (c: Connection) => void;
}) {
  const [name, setName] = useState(editing?.name ?? '');
  const [kind, setKind] = useState<Kind>(editing?.kind ?? 'kafka');
  const [props, setProps] = useState<PropRow[]>(() =>
    editing ? Object.entries(editing.properties).map(([key, value]) => ({ key, value })) : TEMPLATES.kafka.properties.map((key) => ({ key, value: '' })),
  );
  const [secrets, setSecrets] = useState<SecretRow[]>(() =>
    editing
      ? editing.secret_keys.map((key) => ({ key, value: '', existing: true, remove: false }))
      : TEMPLATES.kafka.secrets.map((key) => ({ key, value: '', existing: false, remove: false })),
  );
  const [touched, setTouched] = useState(false);

  const pickKind = (k: Kind) => {
    setKind(k);
    // Offer the new kind's keys while nothing was typed yet.
    if (!editing && !touched) {
      setProps(TEMPLATES[k].properties.map((key) => ({ key, value: '' })));
      setSecrets(TEMPLATES[k].secrets.map((key) => ({ key, value: '', existing: false, remove: false })));
    }
  };
  const editProp = (i: number, change: Partial<PropRow>) => {
    setTouched(true);
    setProps((old) => old.map((r, j) => (j === i ? { ...r, ...change } : r)));
  };
  const editSecret = (i: number, change: Partial<SecretRow>) => {
    setTouched(true);
    setSecrets((old) => old.map((r, j) => (j === i ? { ...r, ...change } : r)));
  };

  // The server's rule for every name, checked as it is typed (an empty name only greys
  // the button); a refused name is never sent.
  const namedProblem = name.trim() ? nameProblem(name) : undefined;
  // The name last tried: an answer about the name holds for that name only, not for
  // what was typed since.
  const [triedName, setTriedName] = useState<string>();

  const submit = async () => {
    setTriedName(name);
    const problem = nameProblem(name);
    if (problem) throw new ApiError(422, { code: 'invalid_field', field: 'name', message: problem });
    // Empty rows are ignored; a property row with a key and no value is sent as "" on purpose.
    const properties = Object.fromEntries(props.filter((r) => r.key.trim()).map((r) => [r.key.trim(), r.value]));
    let saved: Connection;
    if (!editing) {
      const secret_properties = Object.fromEntries(secrets.filter((r) => r.key.trim() && r.value).map((r) => [r.key.trim(), r.value]));
      saved = await call(
        api.POST('/projects/{project_id}/connections', {
          params: { path: { project_id: projectId } },
          body: { name: name.trim(), kind, properties, secret_properties },
        }),
      );
    } else {
      const changes: Record<string, string | null> = {};
      for (const r of secrets) {
        const key = r.key.trim();
        if (!key) continue;
        if (r.existing && r.remove) changes[key] = null;
        else if (r.value) changes[key] = r.value;
      }
      saved = await call(
        api.PATCH('/projects/{project_id}/connections/{connection_id}', {
          params: { path: { project_id: projectId, connection_id: editing.id } },
          body: {
            name: name.trim() !== editing.name ? name.trim() : undefined,
            properties,
            secret_properties: Object.keys(changes).length ? changes : undefined,
          },
        }),
      );
    }
    onSaved(saved);
  };

  const shownFields = ['name', 'kind', ...props.map((r) => `properties.${r.key.trim()}`), ...secrets.map((r) => `secret_properties.${r.key.trim()}`)];
  return (
    <FormDialog
      title={editing ? `Edit ${editing.name}` : 'New connection'}
      wide
      onClose={onClose}
      submitLabel={editing ? 'Save' : 'Create connection'}
      busyLabel="Saving…"
      disabled={!name.trim()}
      form
      fields={[...shownFields, 'properties', 'secret_properties']}
      onSubmit={submit}
    >
      {(error) => (
        <>
          <div className="fields-2">
            <Field
              label="Name"
              error={namedProblem ?? (name === triedName ? fieldError(error, 'name') : undefined)}
              hint={
                <>
                  {NAME_RULE} Scripts refer to it as <code>{'${connections.<name>.<key>}'}</code>.
                  {name.includes('}') && <> A script cannot refer to a name with a {'}'} in it: the reference ends at the first {'}'}.</>}
                </>
              }
            >
              {(p) => <input {...p} autoFocus value={name} onChange={(e) => setName(e.target.value)} style={{ width: '100%' }} />}
            </Field>
            <Field label="Kind" error={fieldError(error, 'kind')} hint={editing ? 'The kind of a connection does not change.' : undefined}>
              {(p) => (
                <select {...p} value={kind} disabled={!!editing} onChange={(e) => pickKind(e.target.value as Kind)} style={{ width: '100%' }}>
                  {KINDS.map((k) => (
                    <option key={k}>{k}</option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          <h3>Properties</h3>
          <div className="kv-rows" data-testid="properties">
            {props.map((r, i) => {
              const err = fieldError(error, `properties.${r.key.trim()}`);
              return (
                <div className="kv-row" key={i}>
                  <input aria-label={`Property ${i + 1} key`} className="mono" value={r.key} placeholder="key" onChange={(e) => editProp(i, { key: e.target.value })} aria-invalid={!!err} />
                  <input aria-label={`${r.key || 'Property ' + (i + 1)} value`} value={r.value} placeholder="value" onChange={(e) => editProp(i, { value: e.target.value })} aria-invalid={!!err} />
                  <button type="button" className="icon" aria-label={`Remove ${r.key || 'property'}`} onClick={() => (setTouched(true), setProps((old) => old.filter((_, j) => j !== i)))}>
                    ✕
                  </button>
                  {err && (
                    <div className="field-error" role="alert">
                      {err}
                    </div>
                  )}
                </div>
              );
            })}
            <button type="button" className="small" onClick={() => setProps((old) => [...old, { key: '', value: '' }])}>
              + Property
            </button>
            {fieldError(error, 'properties') && <div className="field-error" role="alert">{fieldError(error, 'properties')}</div>}
          </div>
          <h3>Secret properties</h3>
          <p className="muted small">Write-only: stored encrypted and never shown again. Leave a set secret empty to keep it.</p>
          <div className="kv-rows" data-testid="secrets">
            {secrets.map((r, i) => {
              const err = fieldError(error, `secret_properties.${r.key.trim()}`);
              return (
                <div className="kv-row" key={i}>
                  <input
                    aria-label={`Secret ${i + 1} key`}
                    className="mono"
                    value={r.key}
                    placeholder="key"
                    readOnly={r.existing}
                    onChange={(e) => editSecret(i, { key: e.target.value })}
                    aria-invalid={!!err}
                  />
                  <input
                    type="password"
                    autoComplete="new-password"
                    aria-label={`${r.key || 'Secret ' + (i + 1)} value`}
                    value={r.value}
                    disabled={r.remove}
                    placeholder={r.existing ? 'set — type to replace' : 'not set'}
                    onChange={(e) => editSecret(i, { value: e.target.value })}
                    aria-invalid={!!err}
                  />
                  {r.existing ? (
                    <label className="check small">
                      <input type="checkbox" checked={r.remove} onChange={(e) => editSecret(i, { remove: e.target.checked, value: '' })} /> remove
                    </label>
                  ) : (
                    <button type="button" className="icon" aria-label={`Remove ${r.key || 'secret'}`} onClick={() => setSecrets((old) => old.filter((_, j) => j !== i))}>
                      ✕
                    </button>
                  )}
                  {err && (
                    <div className="field-error" role="alert">
                      {err}
                    </div>
                  )}
                </div>
              );
            })}
            <button type="button" className="small" onClick={() => setSecrets((old) => [...old, { key: '', value: '', existing: false, remove: false }])}>
              + Secret
            </button>
            {fieldError(error, 'secret_properties') && <div className="field-error" role="alert">{fieldError(error, 'secret_properties')}</div>}
          </div>
        </>
      )}
    </FormDialog>
  );
}

export function ConnectionsPage() {
  const { projectId = '' } = useParams();
  const { project, role, reload: reloadProject } = useProject();
  const canManage = atLeast(role, 'admin');
  const list = usePaged(
    (cursor) => call(api.GET('/projects/{project_id}/connections', { params: { path: { project_id: projectId }, query: { cursor } } })),
    [projectId],
  );
  const [editing, setEditing] = useState<Connection | 'new'>();
  const [deleting, setDeleting] = useState<Connection>();
  return (
    <div className="page">
      <div className="page-head">
        <h1>Connections</h1>
        <div className="spacer" />
        <span className="muted small">
          {project.usage.connections} / {project.limits.connections_per_project}
        </span>
        {canManage && (
          <button className="primary" onClick={() => setEditing('new')}>
            New connection
          </button>
        )}
      </div>
      {!canManage && <div className="muted small" style={{ marginBottom: 8 }}>Project admins manage connections.</div>}
      <DataTable
        {...pagedRows(list)}
        testId="connections"
        rowKey={(c) => c.id}
        empty="No connections yet."
        columns={[
          { header: 'Name', cell: (c) => <strong>{c.name}</strong> },
          { header: 'Kind', cell: (c) => <span className="badge">{c.kind}</span> },
          {
            header: 'Properties',
            className: 'small',
            cell: (c) =>
              Object.entries(c.properties).map(([k, v]) => (
                <div key={k}>
                  <span className="mono">{k}</span> = <span className="mono muted">{v}</span>
                </div>
              )),
          },
          {
            header: 'Secrets',
            className: 'small',
            cell: (c) =>
              c.secret_keys.length === 0 ? (
                <span className="muted">not set</span>
              ) : (
                c.secret_keys.map((k) => (
                  <div key={k}>
                    <span className="mono">{k}</span> <span className="badge completed">set</span>
                  </div>
                ))
              ),
          },
          { header: 'Updated', className: 'muted', cell: (c) => formatTime(c.updated_at) },
          {
            num: true,
            cell: (c) =>
              canManage && (
                <div className="row" style={{ justifyContent: 'flex-end' }}>
                  <button className="small" onClick={() => setEditing(c)}>
                    Edit
                  </button>
                  <button className="danger small" onClick={() => setDeleting(c)}>
                    Delete
                  </button>
                </div>
              ),
          },
        ]}
      />
      {editing && (
        <ConnectionDialog
          projectId={projectId}
          editing={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={async (c) => {
            setEditing(undefined);
            toast(`Connection ${c.name} saved`);
            await Promise.all([list.reload(), reloadProject()]);
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          message="The connection and its secret properties are deleted for good."
          confirmLabel="Delete connection"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await call(api.DELETE('/projects/{project_id}/connections/{connection_id}', { params: { path: { project_id: projectId, connection_id: deleting.id } } }));
            await Promise.all([list.reload(), reloadProject()]);
          }}
        />
      )}
    </div>
  );
}
