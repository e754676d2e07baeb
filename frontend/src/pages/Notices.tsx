// Notices: the inbox (schedules, reminders, arrears, capacity taken away, operators'
// announcements), what the published lifecycles mean for this account's projects and
// deployments, and every engine version's stage.
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { accountStatusChanged } from '../components/AccountStatus';
import { DataTable } from '../components/DataTable';
import { Badge, ErrorNote, LoadMore } from '../components/ui';
import { DAY, formatDate, formatTime, msUntil } from '../lib/dates';
import { fetchAll, useLoad, type Loaded } from '../lib/hooks';

type Notice = Schemas['Notice'];

const TABS = [
  { key: 'inbox', label: 'Inbox' },
  { key: 'impact', label: 'Lifecycle impact' },
  { key: 'engines', label: 'Engine versions' },
] as const;
type Tab = (typeof TABS)[number]['key'];

export function NoticesPage() {
  const [search, setSearch] = useSearchParams();
  const tab = (TABS.find((t) => t.key === search.get('tab'))?.key ?? 'inbox') as Tab;
  const inbox = useLoad(() => call(api.GET('/notices')), []);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Notices</h1>
      </div>
      <div className="tabs page-tabs" role="tablist">
        {TABS.map((t) => (
          <button key={t.key} role="tab" aria-selected={tab === t.key} onClick={() => setSearch(t.key === 'inbox' ? {} : { tab: t.key }, { replace: true })}>
            {t.label}
            {t.key === 'inbox' && inbox.data && inbox.data.unread > 0 ? ` (${inbox.data.unread} unread)` : ''}
          </button>
        ))}
      </div>
      <div className="tab-body">
        {tab === 'inbox' && <InboxTab inbox={inbox} />}
        {tab === 'impact' && <ImpactTab />}
        {tab === 'engines' && <EnginesTab />}
      </div>
    </div>
  );
}

const KIND_LABELS: Record<string, string> = {
  product_form_schedule: 'product lifecycle',
  engine_version_schedule: 'engine lifecycle',
};

function InboxTab({ inbox }: { inbox: Loaded<Schemas['Inbox']> }) {
  const [filter, setFilter] = useState<'all' | 'unread'>('all');
  const [open, setOpen] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [shown, setShown] = useState(30);
  const [busy, setBusy] = useState(false);
  const items = useMemo(() => (inbox.data?.items ?? []).filter((n) => filter === 'all' || !n.read_at), [inbox.data, filter]);
  const markRead = async (ids: string[]) => {
    setError(undefined);
    setBusy(true);
    try {
      for (const id of ids) await call(api.POST('/notices/{notice_id}/read', { params: { path: { notice_id: id } } }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      await inbox.reload();
      accountStatusChanged();
    }
  };
  const unread = (inbox.data?.items ?? []).filter((n) => !n.read_at);
  const openNotice = (n: Notice) => {
    setOpen(open === n.id ? undefined : n.id);
    if (!n.read_at) void markRead([n.id]);
  };
  return (
    <div>
      <div className="row filters">
        <label className="row">
          <span className="muted">Show</span>
          <select aria-label="Show" value={filter} onChange={(e) => setFilter(e.target.value as 'all' | 'unread')}>
            <option value="all">All</option>
            <option value="unread">Unread</option>
          </select>
        </label>
        <span className="muted" data-testid="inbox-unread">
          {inbox.data ? `${inbox.data.unread} unread` : ''}
        </span>
        <div className="spacer" />
        {unread.length > 0 && (
          <button disabled={busy} onClick={() => void markRead(unread.map((n) => n.id))}>
            Mark all read
          </button>
        )}
      </div>
      <ErrorNote error={inbox.error ?? error} />
      <ul className="notices" data-testid="notices">
        {items.slice(0, shown).map((n) => (
          <li key={n.id} className={n.read_at ? 'read' : 'unread'}>
            <div className="row">
              {!n.read_at && <span className="dot" aria-label="unread" />}
              <button className="ghost notice-subject" aria-expanded={open === n.id} onClick={() => openNotice(n)}>
                {n.subject}
              </button>
              <span className="badge">{KIND_LABELS[n.kind] ?? n.kind.replace(/_/g, ' ')}</span>
              <div className="spacer" />
              <span className="muted small">{formatTime(n.created_at)}</span>
              {!n.read_at && (
                <button className="small" disabled={busy} onClick={() => void markRead([n.id])}>
                  Mark read
                </button>
              )}
            </div>
            {open === n.id && <div className="notice-body">{n.body}</div>}
          </li>
        ))}
        {!inbox.loading && items.length === 0 && <li className="empty">{filter === 'unread' ? 'Nothing unread.' : 'No notices.'}</li>}
      </ul>
      <LoadMore hasMore={items.length > shown} loading={false} onMore={() => setShown((s) => s + 30)} />
      <div className="muted small">The inbox keeps the newest 100 notices.</div>
    </div>
  );
}

function ImpactTab() {
  const impact = useLoad(() => call(api.GET('/account/lifecycle-impact')), []);
  const projects = useLoad(() => fetchAll((cursor) => call(api.GET('/projects', { params: { query: { cursor, limit: 200 } } }))), []);
  const projectName = (id: string) => projects.data?.find((p) => p.id === id)?.name ?? id;
  const ids = useMemo(() => [...new Set((impact.data ?? []).filter((i) => i.deployment_id).map((i) => i.project_id))].sort().join(','), [impact.data]);
  const deployments = useLoad(async () => {
    const lists = await Promise.all(
      (ids ? ids.split(',') : []).map((id) =>
        fetchAll((cursor) => call(api.GET('/projects/{project_id}/deployments', { params: { path: { project_id: id }, query: { cursor, limit: 200 } } }))).catch(() => []),
      ),
    );
    return new Map(lists.flat().map((d) => [d.id, d.name]));
  }, [ids]);
  const items = [...(impact.data ?? [])].sort((a, b) => (a.by ?? '9').localeCompare(b.by ?? '9'));
  return (
    <div>
      <p className="muted">
        What published schedules affect in this account: projects on a retiring product form and deployments on an engine version
        past GA or pulled, with what to do and by when.
      </p>
      <DataTable
        rows={items}
        loading={impact.loading}
        error={impact.error}
        testId="lifecycle-impact"
        rowKey={(_, k) => k}
        empty="Nothing in this account is affected by a lifecycle schedule."
        columns={[
          { header: 'Project', cell: (i) => <Link to={`/projects/${i.project_id}/deployments`}>{projectName(i.project_id)}</Link> },
          {
            header: 'Deployment',
            cell: (i) =>
              i.deployment_id ? (
                <Link to={`/projects/${i.project_id}/deployments/${i.deployment_id}`}>{deployments.data?.get(i.deployment_id) ?? i.deployment_id}</Link>
              ) : (
                <span className="muted">the whole project</span>
              ),
          },
          {
            header: 'Affected by',
            cell: (i) => (
              <>
                {i.subject === 'engine_version' ? 'engine version' : 'product form'} <strong>{i.name}</strong>
              </>
            ),
          },
          {
            header: 'Stage',
            cell: (i) => (
              <>
                <Badge value={i.stage} title={stageWords(i.stage, i.subject === 'engine_version' ? ENGINE_STAGES : PRODUCT_STAGES)} />
                <div className="muted small">{(i.subject === 'engine_version' ? ENGINE_STAGES : PRODUCT_STAGES)[i.stage]?.name}</div>
              </>
            ),
          },
          { header: 'What to do', cell: (i) => i.action },
          { header: 'By', className: (i) => (i.by && msUntil(i.by) < 30 * DAY ? 'soon' : 'muted'), cell: (i) => (i.by ? formatTime(i.by) : '—') },
        ]}
      />
    </div>
  );
}

/** An engine version's lifecycle stages: the short names, spelt out, and what each means. */
export const ENGINE_STAGES: Record<string, { name: string; means: string }> = {
  GA: { name: 'general availability', means: 'supported, with new features' },
  EOGS: { name: 'end of general support', means: 'no new features from then on' },
  EOFS: { name: 'end of full support', means: 'no support either: upgrade advised' },
  EOS: { name: 'end of service', means: 'retired: what still runs on it is stopped with a savepoint, and nothing starts on it' },
};

/** A product form's stages (the lifecycle impact lists both kinds). */
export const PRODUCT_STAGES: Record<string, { name: string; means: string }> = {
  GA: { name: 'general availability', means: 'on sale and supported' },
  EOM1: { name: 'end of marketing, first phase', means: 'no new purchases' },
  EOM2: { name: 'end of marketing, second phase', means: 'no new purchases and no scaling out' },
  EOFS: { name: 'end of full support', means: 'no renewals or changes; unsubscribing stays possible' },
  EOS: { name: 'end of service', means: 'nothing runs on it' },
};

/** "EOFS: end of full support, no support either: upgrade advised". */
export function stageWords(stage: string, stages: Record<string, { name: string; means: string }> = ENGINE_STAGES): string | undefined {
  const s = stages[stage];
  return s && `${stage}: ${s.name}, ${s.means}`;
}

/** A stage's short name in a table header, spelt out on hover. */
function StageHeader({ stage }: { stage: string }) {
  return <abbr title={`${ENGINE_STAGES[stage]!.name}: ${ENGINE_STAGES[stage]!.means}`}>{stage}</abbr>;
}

function EnginesTab() {
  const versions = useLoad(() => call(api.GET('/engine-versions')), []);
  return (
    <div>
      <p className="muted">Each engine version passes through these stages on the dates its schedule sets:</p>
      <dl className="stage-legend" data-testid="stage-legend">
        {Object.entries(ENGINE_STAGES).map(([stage, s]) => (
          <div key={stage}>
            <dt>{stage}</dt>
            <dd>
              {s.name}: {s.means}.
            </dd>
          </div>
        ))}
      </dl>
      <DataTable
        rows={versions.data ?? []}
        loading={versions.loading}
        error={versions.error}
        testId="engine-versions"
        rowKey={(v) => v.label}
        empty="No engine version has a published schedule."
        columns={[
          { header: 'Version', cell: (v) => <strong>{v.label}</strong> },
          { header: 'Flink', cell: (v) => v.flink_version },
          {
            header: 'Stage',
            cell: (v) => (
              <>
                <Badge value={v.stage} title={stageWords(v.stage)} /> {v.pulled && <Badge value="pulled" title="Pulled for a defect: no new deployments" />}
                <div className="muted small">{ENGINE_STAGES[v.stage]?.name}</div>
              </>
            ),
          },
          { header: <StageHeader stage="GA" />, className: 'muted small', cell: (v) => formatDate(v.ga) },
          { header: <StageHeader stage="EOGS" />, className: 'muted small', cell: (v) => formatDate(v.eogs) },
          { header: <StageHeader stage="EOFS" />, className: 'muted small', cell: (v) => formatDate(v.eofs) },
          { header: <StageHeader stage="EOS" />, className: 'muted small', cell: (v) => formatDate(v.eos) },
          {
            header: 'Move to',
            cell: (v) =>
              v.upgrade_to ? (
                <>
                  {v.upgrade_to} {v.upgrade_needs_review && <span className="badge eofs" title="A major version change: review before upgrading">review: major change</span>}
                </>
              ) : (
                <span className="muted">—</span>
              ),
          },
        ]}
      />
    </div>
  );
}
