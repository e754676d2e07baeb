// A new alert rule. The fields follow the condition: each condition reads `threshold`
// and `window_secs` in its own unit (or not at all), with the ranges and defaults the
// API applies (gateway alerts.rs create_alert_rule), so people see what they are asking.
import { useState } from 'react';
import { Link } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { Dialog, ErrorNote, Field, fieldError, formError } from '../components/ui';
import { formatDuration } from '../lib/dates';
import { count } from '../lib/plural';
import { useProject } from '../project';
import { atLeast } from '../session';

export type AlertRule = Schemas['AlertRule'];
type ContactGroup = Schemas['ContactGroup'];
type Deployment = Schemas['Deployment'];

export interface ConditionSpec {
  value: string;
  label: string;
  /** What fires it, in words. */
  explain: string;
  /** `unit` for any number but 1, `one` for 1 (the unit itself when it has no plural). */
  threshold?: { label: string; unit: string; one?: string; hint: string; min: number; max: number; default: number };
  window?: { hint: string; min: number; max: number; default: number };
}

export const CONDITIONS: ConditionSpec[] = [
  {
    value: 'job_failed',
    label: 'Job failed',
    explain: 'Fires when the engine reports the job FAILED, or RESTARTING. No threshold or window.',
  },
  {
    value: 'restarts',
    label: 'Restarts',
    explain: 'Fires when the job restarted (by Sluice, or by the engine’s own restart strategy) more than the threshold within the window.',
    threshold: { label: 'More than (restarts)', unit: 'restarts', one: 'restart', hint: 'Restarts counted in the window; 0 fires on the first one.', min: 0, max: 1000, default: 0 },
    window: { hint: 'How far back restarts are counted.', min: 10, max: 86_400, default: 600 },
  },
  {
    value: 'state_mismatch',
    label: 'State differs from desired',
    explain: 'Fires when what the engine shows differs from what was asked (e.g. meant to run but not running) for the whole window.',
    window: { hint: 'How long the states may differ before it fires.', min: 1, max: 86_400, default: 300 },
  },
  {
    value: 'checkpoint_failures',
    label: 'Checkpoint failures',
    explain: 'Fires when more checkpoints than the threshold failed within the window.',
    threshold: { label: 'More than (failed checkpoints)', unit: 'checkpoints', one: 'checkpoint', hint: 'Failed checkpoints in the window; 0 fires on the first one.', min: 0, max: 1000, default: 0 },
    window: { hint: 'How far back failures are counted.', min: 10, max: 86_400, default: 600 },
  },
  {
    value: 'no_checkpoint',
    label: 'No checkpoint',
    explain: 'Fires when no checkpoint completed within the window (the product’s P0 is 300 s).',
    window: { hint: 'Longest time without a completed checkpoint.', min: 10, max: 86_400, default: 300 },
  },
  {
    value: 'input_stopped',
    label: 'Input stopped',
    explain: 'Fires when the sources read fewer records per second than the threshold throughout the window.',
    threshold: { label: 'Below (records/s)', unit: 'records/s', one: 'record/s', hint: 'Records per second the sources emit, summed.', min: 1, max: 100_000_000, default: 1 },
    window: { hint: 'How long input must stay under the threshold.', min: 1, max: 86_400, default: 300 },
  },
  {
    value: 'backpressure_high',
    label: 'Backpressure high',
    explain: 'Fires when the most backpressured operator is backpressured at least the threshold percent of the time, throughout the window.',
    threshold: { label: 'At least (% of time)', unit: '%', hint: 'Share of time backpressured, 1 to 100.', min: 1, max: 100, default: 50 },
    window: { hint: 'How long backpressure must stay that high.', min: 1, max: 86_400, default: 300 },
  },
  {
    value: 'lag_high',
    label: 'Source lag high',
    explain: 'Fires when the sources’ event-time lag is over the threshold throughout the window. Needs a connector that reports lag (e.g. Kafka).',
    threshold: { label: 'Over (milliseconds)', unit: 'ms', hint: 'Event-time lag at the sources; 60000 ms is one minute.', min: 1, max: 86_400_000, default: 60_000 },
    window: { hint: 'How long lag must stay over the threshold.', min: 1, max: 86_400, default: 300 },
  },
  {
    value: 'pending_records_high',
    label: 'Pending records high',
    explain: 'Fires when more records than the threshold wait at the sources throughout the window. Needs a connector that reports them (e.g. Kafka).',
    threshold: { label: 'Over (records waiting)', unit: 'records', one: 'record', hint: 'Records not yet read by the sources (consumer lag).', min: 1, max: Number.MAX_SAFE_INTEGER, default: 100_000 },
    window: { hint: 'How long the backlog must stay over the threshold.', min: 1, max: 86_400, default: 300 },
  },
  {
    value: 'orphan_job',
    label: 'Orphaned engine job',
    explain: 'Fires when an earlier engine job of the deployment still runs on its cluster, unmanaged and unbilled; Sluice cancels it after a grace period. No threshold or window.',
  },
];

export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;

export function conditionSpec(value: string): ConditionSpec | undefined {
  return CONDITIONS.find((c) => c.value === value);
}

/** A threshold with its unit in the number: "1 restart", "3 restarts", "50 %". */
function thresholdText(t: NonNullable<ConditionSpec['threshold']>, n: number): string {
  return count(n, t.one ?? t.unit, t.unit);
}

/** A rule's condition in one line: "Restarts: more than 3 restarts in 10 min". */
export function describeRule(r: Pick<AlertRule, 'condition' | 'threshold' | 'window_secs'>): string {
  const c = conditionSpec(r.condition);
  if (!c) return r.condition;
  const parts: string[] = [];
  if (c.threshold) parts.push(`${c.threshold.label.replace(/ \(.*\)$/, '').toLowerCase()} ${thresholdText(c.threshold, r.threshold)}`);
  const counted = r.condition === 'restarts' || r.condition === 'checkpoint_failures';
  if (c.window) parts.push(`${counted ? 'within' : r.condition === 'no_checkpoint' ? 'in' : 'for'} ${formatDuration(r.window_secs)}`);
  return parts.length ? `${c.label}: ${parts.join(' ')}` : c.label;
}

const FIELDS = ['name', 'condition', 'threshold', 'window_secs', 'severity', 'contact_group_id', 'deployment_id', 'repeat_secs'];

/**
 * What to do when the project has no contact group yet: a rule cannot be made without
 * one, so say where groups are made (and by whom) instead of leaving a dead end.
 */
function NoContactGroups({ projectId, canCreate }: { projectId: string; canCreate: boolean }) {
  const groupsTab = `/projects/${projectId}/alerts?tab=groups`;
  return (
    <span data-testid="no-contact-groups">
      A rule tells a contact group, and this project has none yet.{' '}
      {canCreate ? (
        <>
          <Link to={`${groupsTab}&new=group`}>Create a contact group</Link> (its emails and channels), then come back to New rule.
        </>
      ) : (
        <>
          Project admins make them on the <Link to={groupsTab}>Contact groups</Link> tab: ask one to add a group.
        </>
      )}
    </span>
  );
}

/**
 * Creates a rule, or with `editing` changes one: its condition and deployment stay
 * (another watch is another rule), the rest is checked by the API as for a new rule.
 */
export function AlertRuleDialog({
  projectId,
  groups,
  deployments,
  editing,
  onClose,
  onCreated,
  onChanged,
}: {
  projectId: string;
  groups: ContactGroup[];
  deployments: Deployment[];
  editing?: AlertRule;
  onClose: () => void;
  onCreated: (r: AlertRule) => void;
  onChanged?: () => void;
}) {
  const [name, setName] = useState(editing?.name ?? '');
  const [condition, setCondition] = useState(editing?.condition ?? 'job_failed');
  const spec = conditionSpec(condition)!;
  const [threshold, setThreshold] = useState(editing && spec.threshold ? String(editing.threshold) : '');
  const [windowSecs, setWindowSecs] = useState(editing && spec.window ? String(editing.window_secs) : '');
  const [severity, setSeverity] = useState<string>(editing?.severity ?? 'P1');
  const [groupId, setGroupId] = useState(editing?.contact_group_id ?? groups[0]?.id ?? '');
  const [deploymentId, setDeploymentId] = useState(editing?.deployment_id ?? '');
  const [repeat, setRepeat] = useState(String(editing?.repeat_secs ?? 0));
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const { role } = useProject();

  const pickCondition = (v: string) => {
    setCondition(v);
    // Each condition has its own unit: a value typed for another one means nothing here.
    setThreshold('');
    setWindowSecs('');
    setError(undefined);
  };

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    const body: Schemas['NewAlertRule'] = {
      name: name.trim(),
      condition,
      severity,
      contact_group_id: groupId,
      deployment_id: deploymentId || null,
      repeat_secs: repeat.trim() === '' ? 0 : Number(repeat),
    };
    if (spec.threshold) body.threshold = threshold.trim() === '' ? spec.threshold.default : Number(threshold);
    if (spec.window) body.window_secs = windowSecs.trim() === '' ? spec.window.default : Number(windowSecs);
    try {
      if (editing) {
        const change: Schemas['RuleChange'] = {
          name: body.name,
          severity: body.severity,
          contact_group_id: body.contact_group_id,
          repeat_secs: body.repeat_secs,
          threshold: body.threshold,
          window_secs: body.window_secs,
        };
        await call(
          api.PATCH('/projects/{project_id}/alert-rules/{rule_id}', {
            params: { path: { project_id: projectId, rule_id: editing.id } },
            body: change,
          }),
        );
        onChanged?.();
      } else {
        const r = await call(api.POST('/projects/{project_id}/alert-rules', { params: { path: { project_id: projectId } }, body }));
        onCreated(r);
      }
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  const windowValue = windowSecs.trim() === '' ? spec.window?.default ?? 0 : Number(windowSecs);
  const repeatValue = Number(repeat || 0);
  return (
    <Dialog
      title={editing ? `Edit rule ${editing.name}` : 'New alert rule'}
      onClose={onClose}
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={busy || !name.trim() || !groupId} onClick={() => void submit()}>
            {editing ? (busy ? 'Saving…' : 'Save rule') : busy ? 'Creating…' : 'Create rule'}
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        data-testid="alert-rule-form"
      >
        <Field label="Name" error={fieldError(error, 'name')}>
          {(p) => <input {...p} autoFocus value={name} onChange={(e) => setName(e.target.value)} style={{ width: '100%' }} />}
        </Field>
        <Field label="Condition" error={fieldError(error, 'condition')} hint={spec.explain}>
          {(p) => (
            <select {...p} disabled={!!editing} value={condition} onChange={(e) => pickCondition(e.target.value)} style={{ width: '100%' }}>
              {CONDITIONS.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label} ({c.value})
                </option>
              ))}
            </select>
          )}
        </Field>
        {(spec.threshold || spec.window) && (
          <div className="fields-2">
            {spec.threshold && (
              <Field
                label={spec.threshold.label}
                error={fieldError(error, 'threshold')}
                hint={`${spec.threshold.hint} Default ${thresholdText(spec.threshold, spec.threshold.default)}.`}
              >
                {(p) => (
                  <input
                    {...p}
                    type="number"
                    min={spec.threshold!.min}
                    max={spec.threshold!.max}
                    step={1}
                    placeholder={String(spec.threshold!.default)}
                    value={threshold}
                    onChange={(e) => setThreshold(e.target.value)}
                    style={{ width: '100%' }}
                  />
                )}
              </Field>
            )}
            {spec.window && (
              <Field
                label="Window (seconds)"
                error={fieldError(error, 'window_secs')}
                hint={`${spec.window.hint} ${spec.window.min}–${spec.window.max.toLocaleString()} s${windowValue ? `; now ${formatDuration(windowValue)}` : ''}.`}
              >
                {(p) => (
                  <input
                    {...p}
                    type="number"
                    min={spec.window!.min}
                    max={spec.window!.max}
                    step={1}
                    placeholder={String(spec.window!.default)}
                    value={windowSecs}
                    onChange={(e) => setWindowSecs(e.target.value)}
                    style={{ width: '100%' }}
                  />
                )}
              </Field>
            )}
          </div>
        )}
        <div className="fields-2">
          <Field label="Severity" error={fieldError(error, 'severity')} hint="P0 is the most urgent.">
            {(p) => (
              <select {...p} value={severity} onChange={(e) => setSeverity(e.target.value)} style={{ width: '100%' }}>
                {SEVERITIES.map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label="Contact group"
            error={fieldError(error, 'contact_group_id')}
            hint={groups.length ? undefined : <NoContactGroups projectId={projectId} canCreate={atLeast(role, 'admin')} />}
          >
            {(p) => (
              <select {...p} value={groupId} onChange={(e) => setGroupId(e.target.value)} style={{ width: '100%' }}>
                {groups.length === 0 && <option value="">No contact groups yet</option>}
                {groups.map((g) => (
                  <option key={g.id} value={g.id}>
                    {g.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <div className="fields-2">
          <Field label="Deployment" error={fieldError(error, 'deployment_id')} hint="One deployment, or every deployment of the project.">
            {(p) => (
              <select {...p} disabled={!!editing} value={deploymentId} onChange={(e) => setDeploymentId(e.target.value)} style={{ width: '100%' }}>
                <option value="">Every deployment</option>
                {deployments.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label="Repeat every (seconds)"
            error={fieldError(error, 'repeat_secs')}
            hint={repeatValue > 0 ? `Reminds every ${formatDuration(repeatValue)} while it fires.` : '0: tell once when it fires and once when it resolves. At least 60 otherwise.'}
          >
            {(p) => <input {...p} type="number" min={0} max={604_800} step={1} value={repeat} onChange={(e) => setRepeat(e.target.value)} style={{ width: '100%' }} />}
          </Field>
        </div>
        <ErrorNote error={formError(error, FIELDS.filter((f) => (f !== 'threshold' || spec.threshold) && (f !== 'window_secs' || spec.window)))} />
      </form>
    </Dialog>
  );
}
