// The engine clusters the account may use: its own and the platform's, with their
// health and whether debug runs of SQL drafts may go to them (session clusters). An
// account admin marks the account's own clusters as session clusters; the platform's
// is set by the platform's configuration and shows read-only.
import { useState } from 'react';
import { api, call, type Schemas } from '../api/client';
import { toast } from '../components/toast';
import { DataTable } from '../components/DataTable';
import { Badge, ErrorNote } from '../components/ui';
import { formatTime } from '../lib/dates';
import { useLoad } from '../lib/hooks';
import { useSession } from '../session';

type Cluster = Schemas['Cluster'];

export function ClustersPage() {
  const { account } = useSession();
  const canManage = account.role === 'owner' || account.role === 'admin';
  const clusters = useLoad(() => call(api.GET('/clusters')), []);
  const [changing, setChanging] = useState<string>();
  const [changeError, setChangeError] = useState<unknown>();

  const setDebugSessions = async (c: Cluster, on: boolean) => {
    setChanging(c.id);
    setChangeError(undefined);
    try {
      const updated = await call(api.PATCH('/clusters/{cluster_id}', { params: { path: { cluster_id: c.id } }, body: { debug_sessions: on } }));
      clusters.set((clusters.data ?? []).map((x) => (x.id === updated.id ? updated : x)));
      toast(on ? `${updated.name} takes debug runs now` : `${updated.name} takes no more debug runs`);
    } catch (e) {
      setChangeError(e);
    } finally {
      setChanging(undefined);
    }
  };

  const items = clusters.data ?? [];
  const sessions = items.filter((c) => c.debug_sessions).length;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Clusters</h1>
      </div>
      <p className="muted">
        Where the account's deployments run: its own Flink clusters and the platform's. Debug runs of SQL drafts go only to a session cluster
        {canManage ? "; mark one of the account's own clusters as such below." : ": the account's owners and admins mark them."}
      </p>
      {clusters.data && sessions === 0 && (
        <div className="alert info" data-testid="no-session-cluster">
          No cluster takes debug runs yet{canManage ? ': mark one as a session cluster.' : '.'}
        </div>
      )}
      <ErrorNote error={changeError} />
      <DataTable
        rows={items}
        loading={clusters.loading}
        error={clusters.error}
        testId="clusters"
        rowKey={(c) => c.id}
        empty="No clusters."
        columns={[
          {
            header: 'Name',
            cell: (c) => (
              <>
                <strong>{c.name}</strong>
                {c.platform && (
                  <>
                    {' '}
                    <span className="badge role" title="Provided by the platform to every account; it cannot be changed or removed">
                      platform
                    </span>
                  </>
                )}
              </>
            ),
          },
          { header: 'Flink', cell: (c) => c.flink_version },
          { header: 'Engine', cell: (c) => c.engine_version },
          { header: 'REST URL', className: 'mono small', cell: (c) => c.rest_url },
          {
            header: 'Health',
            cell: (c) => (
              <>
                <Badge value={c.health.status} title={c.health.checked_at ? `Checked ${formatTime(c.health.checked_at)}` : 'Never checked'} />
                {c.health.detail && <div className="muted small">{c.health.detail}</div>}
              </>
            ),
          },
          {
            header: 'Debug sessions',
            cell: (c) => (
              <DebugSessions
                cluster={c}
                editable={canManage && !c.platform}
                saving={changing === c.id}
                // One change at a time: each answer replaces its row in the list.
                disabled={changing !== undefined}
                onChange={(on) => void setDebugSessions(c, on)}
              />
            ),
          },
        ]}
      />
    </div>
  );
}

/** Whether a cluster takes debug runs: a switch for an admin on the account's own clusters, words otherwise. */
function DebugSessions({
  cluster: c,
  editable,
  saving,
  disabled,
  onChange,
}: {
  cluster: Cluster;
  editable: boolean;
  saving: boolean;
  disabled: boolean;
  onChange: (on: boolean) => void;
}) {
  const words = c.debug_sessions ? 'Session cluster' : 'No';
  if (!editable) {
    return (
      <span data-testid="debug-sessions" title={c.platform ? "Set by the platform's configuration" : undefined}>
        {words}
        {c.platform && <span className="muted small"> (set by the platform)</span>}
      </span>
    );
  }
  return (
    <label className="row" data-testid="debug-sessions" title="Debug runs of SQL drafts may go to this cluster">
      <input type="checkbox" checked={c.debug_sessions} disabled={disabled} aria-label={`${c.name} takes debug runs`} onChange={(e) => onChange(e.target.checked)} />
      {saving ? 'Saving…' : words}
    </label>
  );
}
