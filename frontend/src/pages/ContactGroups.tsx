// Who an alert rule tells: a contact group of email addresses and the account's
// notification channels. Project admins manage them; "Send test" shows, per
// destination, whether the sample arrived and, if not, the receiver's words.
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { toast } from '../components/toast';
import { DataTable } from '../components/DataTable';
import { ConfirmDialog, ErrorNote, Field, FormDialog, fieldError } from '../components/ui';
import { formatTime } from '../lib/dates';
import { count } from '../lib/plural';
import { useLoad } from '../lib/hooks';
import { atLeast } from '../session';
import { useProject } from '../project';

type ContactGroup = Schemas['ContactGroup'];
type Channel = Schemas['ChannelChoice'];
type TestResult = Schemas['TestResult'];

/**
 * The account's channels a contact group of this project may send to, by kind and
 * name (their addresses stay with the account's admins).
 */
export function useChannels(projectId: string) {
  const loaded = useLoad(
    () => call(api.GET('/projects/{project_id}/channel-choices', { params: { path: { project_id: projectId } } })),
    [projectId],
  );
  return { channels: loaded.data ?? [], error: loaded.error, reload: loaded.reload };
}

export function channelName(channels: Channel[], id: string): string {
  const c = channels.find((x) => x.id === id);
  return c ? `${c.name} (${c.kind})` : id;
}

/** Splits what people paste: one address a line, or separated by commas or spaces. */
export function parseEmails(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Creates a contact group, or with `editing` replaces one's name and destinations. */
function GroupDialog({ projectId, channels, editing, onClose, onSaved }: {
  projectId: string;
  channels: Channel[];
  editing?: ContactGroup;
  onClose: () => void;
  onSaved: (g: ContactGroup) => void;
}) {
  const [name, setName] = useState(editing?.name ?? '');
  const [emails, setEmails] = useState(editing?.emails.join('\n') ?? '');
  const [picked, setPicked] = useState<string[]>(editing?.channel_ids ?? []);
  const submit = async () => {
    const body = { name: name.trim(), emails: parseEmails(emails), channel_ids: picked };
    const g = editing
      ? await call(
          api.PUT('/projects/{project_id}/contact-groups/{group_id}', {
            params: { path: { project_id: projectId, group_id: editing.id } },
            body,
          }),
        )
      : await call(api.POST('/projects/{project_id}/contact-groups', { params: { path: { project_id: projectId } }, body }));
    onSaved(g);
  };
  return (
    <FormDialog
      title={editing ? `Edit contact group ${editing.name}` : 'New contact group'}
      onClose={onClose}
      submitLabel={editing ? 'Save group' : 'Create group'}
      busyLabel={editing ? 'Saving…' : 'Creating…'}
      disabled={!name.trim()}
      fields={['name', 'emails', 'channel_ids']}
      onSubmit={submit}
    >
      {(error) => (
        <>
          <Field label="Name" error={fieldError(error, 'name')}>
            {(p) => <input {...p} autoFocus value={name} onChange={(e) => setName(e.target.value)} style={{ width: '100%' }} />}
          </Field>
          <Field label="Emails" error={fieldError(error, 'emails')} hint="One address a line (or separated by commas).">
            {(p) => <textarea {...p} rows={3} value={emails} onChange={(e) => setEmails(e.target.value)} style={{ width: '100%' }} placeholder="ops@example.com" />}
          </Field>
          <fieldset className="channel-picks" aria-invalid={!!fieldError(error, 'channel_ids')}>
            <legend className="label">Notification channels</legend>
            {channels.length === 0 && (
              <div className="field-hint">
                The account has no channels yet. <Link to="/channels">Add DingTalk, SMS or webhook channels</Link>.
              </div>
            )}
            {channels.map((c) => (
              <label key={c.id} className="check">
                <input
                  type="checkbox"
                  checked={picked.includes(c.id)}
                  onChange={(e) => setPicked((old) => (e.target.checked ? [...old, c.id] : old.filter((x) => x !== c.id)))}
                />
                {c.name} <span className="muted small">{c.kind}</span>
              </label>
            ))}
            {fieldError(error, 'channel_ids') && (
              <div className="field-error" role="alert">
                {fieldError(error, 'channel_ids')}
              </div>
            )}
          </fieldset>
        </>
      )}
    </FormDialog>
  );
}

/** What a test send found, one row per destination. */
export function TestResults({ results, channels }: { results: TestResult[]; channels: Channel[] }) {
  const ok = results.filter((r) => r.delivered).length;
  return (
    <div className="test-results" data-testid="test-results">
      <div className={'alert ' + (ok === results.length ? 'ok' : ok === 0 ? 'error' : 'warn')}>
        {ok} of {count(results.length, 'destination')} received the test.
      </div>
      <DataTable
        rows={results}
        rowKey={(_, i) => i}
        rowProps={(r) => ({ className: r.delivered ? 'delivered' : 'undelivered' })}
        columns={[
          { header: 'Channel', cell: (r) => r.channel },
          { header: 'Destination', className: 'mono small', cell: (r) => (r.channel === 'email' ? r.destination : channelName(channels, r.destination)) },
          {
            header: 'Result',
            cell: (r) => (r.delivered ? <span className="result-ok">Delivered</span> : <span className="result-failed">Not delivered{r.error ? `: ${r.error}` : ''}</span>),
          },
        ]}
      />
    </div>
  );
}

export function ContactGroupsTab({ projectId, groups, reload, rulesUsing }: {
  projectId: string;
  groups: ContactGroup[];
  reload: () => Promise<void>;
  /** How many rules send to each group (a group in use cannot be deleted). */
  rulesUsing: (groupId: string) => number;
}) {
  const { role } = useProject();
  const canManage = atLeast(role, 'admin');
  const { channels, error: channelsError } = useChannels(projectId);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<ContactGroup>();
  const [deleting, setDeleting] = useState<ContactGroup>();
  const [testing, setTesting] = useState<string>();
  // `?new=group`: sent here from a rule that had no group to send to; open the form.
  const [search, setSearch] = useSearchParams();
  const asked = search.get('new') === 'group';
  useEffect(() => {
    if (!asked) return;
    if (canManage) setCreating(true);
    setSearch(
      (old) => {
        const next = new URLSearchParams(old);
        next.delete('new');
        return next;
      },
      { replace: true },
    );
  }, [asked, canManage, setSearch]);
  const [results, setResults] = useState<Record<string, TestResult[]>>({});
  const [testError, setTestError] = useState<{ id: string; error: unknown }>();

  const test = async (g: ContactGroup) => {
    setTesting(g.id);
    setTestError(undefined);
    try {
      const r = await call(
        api.POST('/projects/{project_id}/contact-groups/{group_id}/test', { params: { path: { project_id: projectId, group_id: g.id } } }),
      );
      setResults((old) => ({ ...old, [g.id]: r }));
    } catch (e) {
      setTestError({ id: g.id, error: e });
    } finally {
      setTesting(undefined);
    }
  };

  return (
    <div>
      <ErrorNote error={channelsError} />
      <div className="row" style={{ marginBottom: 12 }}>
        <span className="muted small">Rules send to a contact group: its emails and the account’s channels.</span>
        <div className="spacer" />
        {canManage && (
          <button className="primary" onClick={() => setCreating(true)}>
            New contact group
          </button>
        )}
      </div>
      {groups.length === 0 && <div className="card empty">No contact groups yet.{canManage ? ' Create one, then add rules that send to it.' : ''}</div>}
      {groups.map((g) => (
        <div className="card contact-group" key={g.id} data-testid={`group-${g.name}`}>
          <div className="row">
            <strong>{g.name}</strong>
            <span className="muted small">
              created {formatTime(g.created_at)} · {count(rulesUsing(g.id), 'rule sends', 'rules send')} to it
            </span>
            <div className="spacer" />
            {canManage && (
              <>
                <button onClick={() => setEditing(g)}>Edit</button>
                <button onClick={() => void test(g)} disabled={testing === g.id}>
                  {testing === g.id ? 'Sending…' : 'Send test'}
                </button>
                <button className="danger" onClick={() => setDeleting(g)}>
                  Delete
                </button>
              </>
            )}
          </div>
          <div className="destinations">
            {g.emails.map((e) => (
              <span className="chip" key={e}>
                ✉ {e}
              </span>
            ))}
            {g.channel_ids.map((c) => (
              <span className="chip" key={c}>
                {channelName(channels, c)}
              </span>
            ))}
          </div>
          {testError?.id === g.id && <ErrorNote error={testError.error} />}
          {results[g.id] && <TestResults results={results[g.id]!} channels={channels} />}
        </div>
      ))}
      {creating && (
        <GroupDialog
          projectId={projectId}
          channels={channels}
          onClose={() => setCreating(false)}
          onSaved={async (g) => {
            setCreating(false);
            toast(`Contact group ${g.name} created`);
            await reload();
          }}
        />
      )}
      {editing && (
        <GroupDialog
          projectId={projectId}
          channels={channels}
          editing={editing}
          onClose={() => setEditing(undefined)}
          onSaved={async (g) => {
            setEditing(undefined);
            toast(`Contact group ${g.name} saved`);
            await reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          message={
            rulesUsing(deleting.id) > 0
              ? `${count(rulesUsing(deleting.id), 'rule sends', 'rules send')} to this group: delete or change ${rulesUsing(deleting.id) === 1 ? 'it' : 'them'} first, or the API refuses.`
              : 'No rule sends to this group.'
          }
          confirmLabel="Delete group"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await call(api.DELETE('/projects/{project_id}/contact-groups/{group_id}', { params: { path: { project_id: projectId, group_id: deleting.id } } }));
            await reload();
          }}
        />
      )}
    </div>
  );
}
