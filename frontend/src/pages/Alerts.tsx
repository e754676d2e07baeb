// A project's alerting: what fired (and resolved), the rules, who they tell, and the
// silences that mute them for a while.
import { useMemo, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { toast } from '../components/toast';
import { DataTable, pagedRows, shownRows } from '../components/DataTable';
import { Badge, ConfirmDialog, ErrorNote, Field, FormDialog, fieldError } from '../components/ui';
import { HOUR, browserTimeZone, formatDuration, formatTime, localInputToIso, msUntil, toLocalInput } from '../lib/dates';
import { fetchAll, useLoad, usePaged, useShown, useVisiblePolling } from '../lib/hooks';
import { useProject } from '../project';
import { atLeast } from '../session';
import { AlertRuleDialog, describeRule, type AlertRule } from './AlertRuleForm';
import { ContactGroupsTab } from './ContactGroups';

type Deployment = Schemas['Deployment'];
type Silence = Schemas['Silence'];

const TABS = [
  { key: 'history', label: 'Alert history' },
  { key: 'rules', label: 'Rules' },
  { key: 'groups', label: 'Contact groups' },
  { key: 'silences', label: 'Silences' },
] as const;
type Tab = (typeof TABS)[number]['key'];

export function AlertsPage() {
  const { projectId = '' } = useParams();
  const [search, setSearch] = useSearchParams();
  const tab = (TABS.find((t) => t.key === search.get('tab'))?.key ?? 'history') as Tab;
  const path = { project_id: projectId };
  const rules = useLoad(() => call(api.GET('/projects/{project_id}/alert-rules', { params: { path } })), [projectId]);
  const groups = useLoad(() => call(api.GET('/projects/{project_id}/contact-groups', { params: { path } })), [projectId]);
  const deployments = useLoad(
    () => fetchAll((cursor) => call(api.GET('/projects/{project_id}/deployments', { params: { path, query: { cursor, limit: 200 } } }))),
    [projectId],
  );
  const members = useLoad(
    () => fetchAll((cursor) => call(api.GET('/projects/{project_id}/members', { params: { path, query: { cursor, limit: 200 } } }))),
    [projectId],
  );
  const ruleName = (id: string | null | undefined) => (id ? (rules.data?.find((r) => r.id === id)?.name ?? id) : undefined);
  const deploymentName = (id: string | null | undefined) => (id ? (deployments.data?.find((d) => d.id === id)?.name ?? id) : undefined);
  const person = (id: string) => {
    const m = members.data?.find((x) => x.user_id === id);
    return m ? m.display_name || m.email : id;
  };
  return (
    <div className="page">
      <div className="page-head">
        <h1>Alerts</h1>
      </div>
      <div className="tabs page-tabs" role="tablist">
        {TABS.map((t) => (
          <button key={t.key} role="tab" aria-selected={tab === t.key} onClick={() => setSearch(t.key === 'history' ? {} : { tab: t.key }, { replace: true })}>
            {t.label}
            {t.key === 'rules' && rules.data ? ` (${rules.data.length})` : ''}
            {t.key === 'groups' && groups.data ? ` (${groups.data.length})` : ''}
          </button>
        ))}
      </div>
      <div className="tab-body">
        <ErrorNote error={rules.error ?? groups.error ?? deployments.error} />
        {tab === 'history' && <HistoryTab projectId={projectId} ruleName={ruleName} deploymentName={deploymentName} />}
        {tab === 'rules' && (
          <RulesTab
            projectId={projectId}
            rules={rules.data ?? []}
            reload={rules.reload}
            groups={groups.data ?? []}
            deployments={deployments.data ?? []}
            deploymentName={deploymentName}
          />
        )}
        {tab === 'groups' && (
          <ContactGroupsTab
            projectId={projectId}
            groups={groups.data ?? []}
            reload={groups.reload}
            rulesUsing={(id) => (rules.data ?? []).filter((r) => r.contact_group_id === id).length}
          />
        )}
        {tab === 'silences' && (
          <SilencesTab
            projectId={projectId}
            rules={rules.data ?? []}
            deployments={deployments.data ?? []}
            ruleName={ruleName}
            deploymentName={deploymentName}
            person={person}
          />
        )}
      </div>
    </div>
  );
}

function HistoryTab({ projectId, ruleName, deploymentName }: {
  projectId: string;
  ruleName: (id: string) => string | undefined;
  deploymentName: (id: string) => string | undefined;
}) {
  const [state, setState] = useState('');
  const list = usePaged(
    (cursor) =>
      call(
        api.GET('/projects/{project_id}/alerts', {
          params: { path: { project_id: projectId }, query: { cursor, state: state || undefined } },
        }),
      ),
    [projectId, state],
  );
  useVisiblePolling(() => void list.reload(), 15_000);
  return (
    <div>
      <div className="row filters">
        <label className="row">
          <span className="muted">State</span>
          <select aria-label="State" value={state} onChange={(e) => setState(e.target.value)}>
            <option value="">All</option>
            <option value="firing">Firing</option>
            <option value="resolved">Resolved</option>
          </select>
        </label>
        <div className="spacer" />
        <span className="muted small">Refreshes every 15 s.</span>
      </div>
      <DataTable
        {...pagedRows(list)}
        testId="alerts"
        rowKey={(a) => a.id}
        empty={state ? `No ${state} alerts.` : 'Nothing has fired in this project.'}
        columns={[
          { header: 'State', cell: (a) => <Badge value={a.state} /> },
          { header: 'Summary', cell: (a) => a.summary },
          { header: 'Rule', cell: (a) => ruleName(a.rule_id) },
          { header: 'Deployment', cell: (a) => <Link to={`../deployments/${a.deployment_id}`}>{deploymentName(a.deployment_id)}</Link> },
          { header: 'Started', className: 'muted', cell: (a) => formatTime(a.started_at) },
          { header: 'Resolved', className: 'muted', cell: (a) => (a.resolved_at ? formatTime(a.resolved_at) : '—') },
          {
            header: 'Told',
            className: 'muted',
            cell: (a) => (a.notified_at ? formatTime(a.notified_at) : <span title="Silenced throughout: recorded, not sent">silenced</span>),
          },
        ]}
      />
    </div>
  );
}

function RulesTab({ projectId, rules, reload, groups, deployments, deploymentName }: {
  projectId: string;
  rules: AlertRule[];
  reload: () => Promise<void>;
  groups: Schemas['ContactGroup'][];
  deployments: Deployment[];
  deploymentName: (id: string) => string | undefined;
}) {
  const { role } = useProject();
  const canWrite = atLeast(role, 'editor');
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<AlertRule>();
  const [deleting, setDeleting] = useState<AlertRule>();
  const [error, setError] = useState<unknown>();
  const page = useShown(50);
  const groupName = (id: string) => groups.find((g) => g.id === id)?.name ?? id;
  const toggle = async (r: AlertRule) => {
    setError(undefined);
    try {
      await call(
        api.PATCH('/projects/{project_id}/alert-rules/{rule_id}', {
          params: { path: { project_id: projectId, rule_id: r.id } },
          body: { enabled: !r.enabled },
        }),
      );
      toast(`${r.name} ${r.enabled ? 'turned off: what it has firing resolves on the next pass' : 'turned on'}`);
      await reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div>
      <div className="row" style={{ marginBottom: 12 }}>
        <span className="muted small">
          A rule fires once when its condition starts and tells its contact group again when it resolves.
          {groups.length === 0 && (
            <>
              {' '}
              It needs a contact group to tell: this project has none yet (see <Link to="?tab=groups">Contact groups</Link>).
            </>
          )}
        </span>
        <div className="spacer" />
        {canWrite && (
          <button className="primary" onClick={() => setCreating(true)}>
            New rule
          </button>
        )}
      </div>
      <DataTable
        {...shownRows(rules, page)}
        error={error}
        testId="alert-rules"
        rowKey={(r) => r.id}
        rowProps={(r) => ({ className: r.enabled ? '' : 'disabled-row' })}
        empty="No rules yet."
        columns={[
          { header: 'Name', cell: (r) => r.name },
          {
            header: 'Condition',
            cell: (r) => (
              <>
                {describeRule(r)} <span className="muted small mono">{r.condition}</span>
              </>
            ),
          },
          { header: 'Scope', cell: (r) => (r.deployment_id ? deploymentName(r.deployment_id) : <span className="muted">every deployment</span>) },
          { header: 'Severity', cell: (r) => <span className={'badge sev-' + r.severity.toLowerCase()}>{r.severity}</span> },
          { header: 'Contact group', cell: (r) => groupName(r.contact_group_id) },
          { header: 'Repeat', className: 'muted', cell: (r) => (r.repeat_secs > 0 ? `every ${formatDuration(r.repeat_secs)}` : 'never') },
          {
            header: 'Enabled',
            cell: (r) =>
              canWrite ? (
                <label className="switch">
                  <input type="checkbox" checked={r.enabled} onChange={() => void toggle(r)} aria-label={`${r.name} enabled`} />
                  {r.enabled ? 'on' : 'off'}
                </label>
              ) : r.enabled ? (
                'on'
              ) : (
                'off'
              ),
          },
          {
            num: true,
            cell: (r) =>
              canWrite && (
                <>
                  <button className="small" onClick={() => setEditing(r)}>
                    Edit
                  </button>{' '}
                  <button className="danger small" onClick={() => setDeleting(r)}>
                    Delete
                  </button>
                </>
              ),
          },
        ]}
      />
      {creating && (
        <AlertRuleDialog
          projectId={projectId}
          groups={groups}
          deployments={deployments}
          onClose={() => setCreating(false)}
          onCreated={async (r) => {
            setCreating(false);
            toast(`Rule ${r.name} created`);
            await reload();
          }}
        />
      )}
      {editing && (
        <AlertRuleDialog
          projectId={projectId}
          groups={groups}
          deployments={deployments}
          editing={editing}
          onClose={() => setEditing(undefined)}
          onCreated={() => undefined}
          onChanged={async () => {
            toast(`Rule ${editing.name} saved: what it had firing is judged again by the new terms`);
            setEditing(undefined);
            await reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete rule ${deleting.name}?`}
          message="It stops being evaluated; its past alerts stay in the history."
          confirmLabel="Delete rule"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await call(api.DELETE('/projects/{project_id}/alert-rules/{rule_id}', { params: { path: { project_id: projectId, rule_id: deleting.id } } }));
            await reload();
          }}
        />
      )}
    </div>
  );
}

function NewSilenceDialog({ projectId, rules, deployments, onClose, onCreated }: {
  projectId: string;
  rules: AlertRule[];
  deployments: Deployment[];
  onClose: () => void;
  onCreated: (s: Silence) => void;
}) {
  const [ruleId, setRuleId] = useState('');
  const [deploymentId, setDeploymentId] = useState('');
  const [startsAt, setStartsAt] = useState('');
  const [endsAt, setEndsAt] = useState(() => toLocalInput(Date.now() + 2 * HOUR));
  const [reason, setReason] = useState('');
  const submit = async () => {
    const s = await call(
      api.POST('/projects/{project_id}/silences', {
        params: { path: { project_id: projectId } },
        body: {
          rule_id: ruleId || null,
          deployment_id: deploymentId || null,
          starts_at: localInputToIso(startsAt) ?? null,
          ends_at: localInputToIso(endsAt) ?? '',
          reason: reason.trim(),
        },
      }),
    );
    onCreated(s);
  };
  const zone = browserTimeZone();
  return (
    <FormDialog
      title="New silence"
      onClose={onClose}
      submitLabel="Silence"
      busyLabel="Creating…"
      disabled={!reason.trim() || !endsAt}
      fields={['rule_id', 'deployment_id', 'starts_at', 'ends_at', 'reason']}
      onSubmit={submit}
    >
      {(error) => (
        <>
          <p className="muted small">
            A silenced alert is still recorded but not sent; if it outlasts the silence, it is announced then. Name a rule, a
            deployment, or both (that rule for that deployment only).
          </p>
          <div className="fields-2">
            <Field label="Rule" error={fieldError(error, 'rule_id')}>
              {(p) => (
                <select {...p} value={ruleId} onChange={(e) => setRuleId(e.target.value)} style={{ width: '100%' }}>
                  <option value="">Every rule</option>
                  {rules.map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Deployment" error={fieldError(error, 'deployment_id')}>
              {(p) => (
                <select {...p} value={deploymentId} onChange={(e) => setDeploymentId(e.target.value)} style={{ width: '100%' }}>
                  <option value="">Every deployment</option>
                  {deployments.map((d) => (
                    <option key={d.id} value={d.id}>
                      {d.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          <div className="fields-2">
            <Field label="Starts" error={fieldError(error, 'starts_at')} hint={`Empty: now. Times in ${zone}.`}>
              {(p) => <input {...p} type="datetime-local" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} style={{ width: '100%' }} />}
            </Field>
            <Field label="Ends" error={fieldError(error, 'ends_at')} hint="At most 30 days after it starts.">
              {(p) => <input {...p} type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} style={{ width: '100%' }} />}
            </Field>
          </div>
          <Field label="Reason" error={fieldError(error, 'reason')}>
            {(p) => <input {...p} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="cluster maintenance" style={{ width: '100%' }} />}
          </Field>
        </>
      )}
    </FormDialog>
  );
}

function SilencesTab({ projectId, rules, deployments, ruleName, deploymentName, person }: {
  projectId: string;
  rules: AlertRule[];
  deployments: Deployment[];
  ruleName: (id: string | null | undefined) => string | undefined;
  deploymentName: (id: string | null | undefined) => string | undefined;
  person: (id: string) => string;
}) {
  const { role } = useProject();
  const canWrite = atLeast(role, 'editor');
  const list = useLoad(() => call(api.GET('/projects/{project_id}/silences', { params: { path: { project_id: projectId } } })), [projectId]);
  const [creating, setCreating] = useState(false);
  const [ending, setEnding] = useState<Silence>();
  const page = useShown(50);
  const items = useMemo(() => list.data ?? [], [list.data]);
  const now = Date.now();
  return (
    <div>
      <div className="row" style={{ marginBottom: 12 }}>
        <span className="muted small">Silences in force or to come.</span>
        <div className="spacer" />
        {canWrite && (
          <button className="primary" onClick={() => setCreating(true)}>
            New silence
          </button>
        )}
      </div>
      <DataTable
        {...shownRows(items, page)}
        loading={list.loading}
        error={list.error}
        testId="silences"
        rowKey={(s) => s.id}
        empty="Nothing is silenced."
        columns={[
          {
            header: 'Mutes',
            cell: (s) => (
              <>
                {s.rule_id ? <>rule <strong>{ruleName(s.rule_id)}</strong></> : 'every rule'}
                {' · '}
                {s.deployment_id ? <>deployment <strong>{deploymentName(s.deployment_id)}</strong></> : 'every deployment'}
                {msUntil(s.starts_at, now) > 0 && <span className="badge pending" style={{ marginLeft: 6 }}>upcoming</span>}
              </>
            ),
          },
          { header: 'From', className: 'muted', cell: (s) => formatTime(s.starts_at) },
          { header: 'Until', className: 'muted', cell: (s) => formatTime(s.ends_at) },
          { header: 'Reason', cell: (s) => s.reason },
          {
            header: 'Created by',
            cell: (s) => (
              <>
                {person(s.created_by)} <span className="muted small">{formatTime(s.created_at)}</span>
              </>
            ),
          },
          {
            num: true,
            cell: (s) =>
              canWrite && (
                <button className="small" onClick={() => setEnding(s)}>
                  End now
                </button>
              ),
          },
        ]}
      />
      {creating && (
        <NewSilenceDialog
          projectId={projectId}
          rules={rules}
          deployments={deployments}
          onClose={() => setCreating(false)}
          onCreated={async () => {
            setCreating(false);
            toast('Silence created');
            await list.reload();
          }}
        />
      )}
      {ending && (
        <ConfirmDialog
          title="End this silence now?"
          message={`Alerts it mutes (${ending.reason}) are sent again from now on.`}
          confirmLabel="End silence"
          onClose={() => setEnding(undefined)}
          onConfirm={async () => {
            await call(api.DELETE('/projects/{project_id}/silences/{silence_id}', { params: { path: { project_id: projectId, silence_id: ending.id } } }));
            await list.reload();
          }}
        />
      )}
    </div>
  );
}
