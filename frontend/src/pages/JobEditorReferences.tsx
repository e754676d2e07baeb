// Beside the SQL editor: what a script can name, each inserted at the cursor with a
// click (the editor also completes functions and connectors as they are typed). The
// project's registered functions (called by name), the connectors and formats of the
// engine version the job is checked against (a table's 'connector' and 'format'
// options), and the project's connections as `${connections.<name>.<key>}` references,
// which Sluice substitutes only when the job goes to the engine. Secret properties are
// listed by key: the API never returns their values, and nothing here asks for them.
import { Link } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import type { ConnectorName } from '../components/SqlEditor';
import { ErrorNote, Spinner } from '../components/ui';
import { fetchAll, useLoad } from '../lib/hooks';

type Func = Schemas['Function'];
type Connection = Schemas['Connection'];
type Cluster = Schemas['Cluster'];
type Catalogue = Schemas['EngineVersionConnectors'];

/** A connection property as a script references it. */
export const connectionRef = (connection: string, key: string) => `\${connections.${connection}.${key}}`;

/** A table option naming a connector or format, as it is written in a WITH clause. */
export const optionRef = (c: ConnectorName) => `'${c.kind}' = '${c.identifier}'`;

export interface JobReferences {
  functions: Func[];
  connections: Connection[];
  /** The cluster whose engine version's catalogue is shown, if there is one. */
  cluster?: Cluster;
  catalogue?: Catalogue;
  loading: boolean;
  error: unknown;
  reload: () => Promise<void>;
}

/**
 * Loads what the panel shows (nothing while not `enabled`: a JAR job has no script). The catalogue is that of the cluster the job was last
 * validated on, else the project's default cluster, else the platform's: where
 * validation goes when it names none.
 */
export function useJobReferences(projectId: string, clusterId: string | null | undefined, enabled = true): JobReferences {
  const path = { project_id: projectId };
  const functions = useLoad(
    async () => (enabled ? (await call(api.GET('/projects/{project_id}/functions', { params: { path } }))).items : []),
    [projectId, enabled],
  );
  const connections = useLoad(
    async () =>
      enabled ? fetchAll((cursor) => call(api.GET('/projects/{project_id}/connections', { params: { path, query: { cursor, limit: 200 } } }))) : [],
    [projectId, enabled],
  );
  const clusters = useLoad(async () => (enabled ? call(api.GET('/clusters')) : []), [enabled]);
  const all = clusters.data ?? [];
  const cluster = all.find((c) => c.id === clusterId) ?? all.find((c) => c.platform);
  const label = cluster?.engine_version;
  const catalogue = useLoad(
    async () => (label ? call(api.GET('/engine-versions/{label}/connectors', { params: { path: { label } } })) : undefined),
    [label],
  );
  return {
    functions: functions.data ?? [],
    connections: connections.data ?? [],
    cluster,
    catalogue: catalogue.data,
    loading: functions.loading || connections.loading || clusters.loading || catalogue.loading,
    error: functions.error ?? connections.error ?? clusters.error ?? catalogue.error,
    reload: async () => {
      await Promise.all([functions.reload(), connections.reload(), clusters.reload()]);
      await catalogue.reload();
    },
  };
}

function InsertItem({ text, label, note, disabled, onInsert }: { text: string; label: string; note?: string; disabled: boolean; onInsert: (text: string) => void }) {
  return (
    // The note beside the button, not in it: what the button shows is part of its name.
    <li className="ref-row">
      <button type="button" className="ref-item" disabled={disabled} onClick={() => onInsert(text)} aria-label={`Insert ${text}`} title={disabled ? text : `Insert ${text}`}>
        <span className="mono">{label}</span>
      </button>
      {note && <span className="muted small ref-note">{note}</span>}
    </li>
  );
}

export function ReferencesPanel({
  projectId,
  refs,
  canInsert,
  onInsert,
  onHide,
}: {
  projectId: string;
  refs: JobReferences;
  /** False when the editor is read only: the lists show, nothing is inserted. */
  canInsert: boolean;
  onInsert: (text: string) => void;
  onHide: () => void;
}) {
  const { functions, connections, cluster, catalogue } = refs;
  const connectors = (catalogue?.connectors ?? []).filter((c) => c.kind === 'connector');
  const formats = (catalogue?.connectors ?? []).filter((c) => c.kind === 'format');
  const disabled = !canInsert;
  return (
    <aside className="side-panel" aria-label="References" data-testid="references">
      <div className="side-head">
        <strong>References</strong>
        <div className="spacer" />
        {refs.loading && <Spinner label="Loading…" />}
        <button type="button" className="icon" onClick={() => void refs.reload()} title="Read the lists again" aria-label="Read the lists again">
          ↻
        </button>
        <button type="button" className="icon" onClick={onHide} title="Hide references" aria-label="Hide references">
          ›
        </button>
      </div>
      <ErrorNote error={refs.error} />
      {canInsert && (
        <div className="muted small side-note">
          Click a name to insert it at the cursor. In the editor, typing completes functions, the draft’s tables and keywords; Ctrl+Space lists
          them.
        </div>
      )}

      <details open>
        <summary>Functions ({functions.length})</summary>
        {functions.length === 0 ? (
          <div className="muted small side-note">
            None registered. Register a JAR as a UDF artifact on <Link to={`/projects/${projectId}/artifacts`}>Artifacts</Link>.
          </div>
        ) : (
          <ul className="ref-list" aria-label="Functions">
            {functions.map((f) => (
              <InsertItem key={f.name} text={f.name} label={f.name} note={f.kind} disabled={disabled} onInsert={onInsert} />
            ))}
          </ul>
        )}
      </details>

      <details open>
        <summary>
          Connectors{catalogue ? ` · engine ${catalogue.label} (Flink ${catalogue.flink_version})` : ''}
        </summary>
        {cluster && <div className="muted small side-note">Of {cluster.name}, where this job is validated. Typing inside 'connector' = '…' completes these names.</div>}
        {!cluster && !refs.loading && <div className="muted small side-note">No engine cluster to take the catalogue from.</div>}
        {catalogue && (
          <>
            <ul className="ref-list" aria-label="Connectors">
              {connectors.map((c) => (
                <InsertItem key={c.identifier} text={optionRef(c)} label={c.identifier} note={c.source === 'engine' ? 'connector · built in' : 'connector'} disabled={disabled} onInsert={onInsert} />
              ))}
            </ul>
            {formats.length > 0 && (
              <ul className="ref-list" aria-label="Formats">
                {formats.map((c) => (
                  <InsertItem key={c.identifier} text={optionRef(c)} label={c.identifier} note={c.source === 'engine' ? 'format · built in' : 'format'} disabled={disabled} onInsert={onInsert} />
                ))}
              </ul>
            )}
          </>
        )}
      </details>

      <details open>
        <summary>Connections ({connections.length})</summary>
        {connections.length === 0 ? (
          <div className="muted small side-note">
            None yet. Project admins add them under <Link to={`/projects/${projectId}/connections`}>Connections</Link>.
          </div>
        ) : (
          <>
            <div className="muted small side-note">
              Inserted as <code>{'${connections.<name>.<key>}'}</code>: the value is filled in only when the job goes to the engine. Secret values are never shown.
            </div>
            {connections.map((c) => (
              <div key={c.id} className="ref-group">
                <div className="row small">
                  <strong>{c.name}</strong>
                  <span className="badge">{c.kind}</span>
                </div>
                <ul className="ref-list" aria-label={`Keys of ${c.name}`}>
                  {Object.keys(c.properties).map((key) => (
                    <InsertItem key={'p:' + key} text={connectionRef(c.name, key)} label={key} disabled={disabled} onInsert={onInsert} />
                  ))}
                  {c.secret_keys.map((key) => (
                    <InsertItem key={'s:' + key} text={connectionRef(c.name, key)} label={key} note="secret" disabled={disabled} onInsert={onInsert} />
                  ))}
                  {Object.keys(c.properties).length + c.secret_keys.length === 0 && <li className="muted small">No properties.</li>}
                </ul>
              </div>
            ))}
          </>
        )}
      </details>
    </aside>
  );
}
