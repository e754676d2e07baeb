// The account's notification channels (DingTalk robots, SMS numbers, webhooks): every
// notice of the account, and the alerts of contact groups that name them, are sent
// there. Addresses and secrets are stored encrypted and never shown again. Below them,
// what was sent and what did not arrive, with a retry.
import { useState } from 'react';
import { api, call, type Schemas } from '../api/client';
import { toast } from '../components/toast';
import { DataTable, pagedRows, shownRows } from '../components/DataTable';
import { ConfirmDialog, Field, FormDialog, fieldError } from '../components/ui';
import { formatTime } from '../lib/dates';
import { useLoad, usePaged, useShown } from '../lib/hooks';
import { useSession } from '../session';

type Channel = Schemas['NotificationChannel'];
type TestSend = Schemas['TestSend'];

const KINDS = [
  {
    value: 'dingtalk',
    label: 'DingTalk robot',
    address: 'Robot webhook URL with its access token',
    placeholder: 'https://oapi.dingtalk.com/robot/send?access_token=…',
    secret: 'Signing secret (SEC…)',
    secretHint: 'The robot’s “additional signature” secret; messages are signed with it.',
  },
  { value: 'sms', label: 'SMS', address: 'Phone number', placeholder: '+8613800000000', secret: undefined, secretHint: undefined },
  {
    value: 'webhook',
    label: 'Webhook',
    address: 'URL (http or https)',
    placeholder: 'https://hooks.example.com/sluice',
    secret: 'HMAC key',
    secretHint: 'At least 16 characters. Requests carry X-Sluice-Signature: v1=hex(HMAC-SHA256(key, timestamp + "." + body)).',
  },
] as const;

function NewChannelDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (c: Channel) => void }) {
  const [kind, setKind] = useState<(typeof KINDS)[number]['value']>('dingtalk');
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [secret, setSecret] = useState('');
  const spec = KINDS.find((k) => k.value === kind)!;
  const submit = async () => {
    const c = await call(
      api.POST('/account/notification-channels', {
        body: { kind, name: name.trim(), address: address.trim(), secret: spec.secret && secret ? secret : null },
      }),
    );
    onCreated(c);
  };
  return (
    <FormDialog
      title="New notification channel"
      onClose={onClose}
      submitLabel="Add channel"
      busyLabel="Adding…"
      disabled={!name.trim() || !address.trim()}
      fields={['kind', 'name', 'address', 'secret']}
      onSubmit={submit}
    >
      {(error) => (
        <>
          <Field label="Kind" error={fieldError(error, 'kind')}>
            {(p) => (
              <select {...p} value={kind} onChange={(e) => (setKind(e.target.value as typeof kind), setSecret(''))} style={{ width: '100%' }}>
                {KINDS.map((k) => (
                  <option key={k.value} value={k.value}>
                    {k.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Name" error={fieldError(error, 'name')}>
            {(p) => <input {...p} autoFocus value={name} onChange={(e) => setName(e.target.value)} placeholder="ops robot" style={{ width: '100%' }} />}
          </Field>
          <Field label={spec.address} error={fieldError(error, 'address')} hint="Stored encrypted; shown afterwards with its sensitive part hidden.">
            {(p) => <input {...p} value={address} onChange={(e) => setAddress(e.target.value)} placeholder={spec.placeholder} style={{ width: '100%' }} />}
          </Field>
          {spec.secret && (
            <Field label={spec.secret} error={fieldError(error, 'secret')} hint={spec.secretHint}>
              {(p) => <input {...p} type="password" autoComplete="new-password" value={secret} onChange={(e) => setSecret(e.target.value)} style={{ width: '100%' }} />}
            </Field>
          )}
        </>
      )}
    </FormDialog>
  );
}

export function NotificationChannelsPage() {
  const { account } = useSession();
  const allowed = account.role === 'owner' || account.role === 'admin';
  const channels = useLoad(async () => (allowed ? call(api.GET('/account/notification-channels')) : []), [allowed]);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Channel>();
  const [testing, setTesting] = useState<string>();
  const [results, setResults] = useState<Record<string, TestSend | { failed: unknown }>>({});
  const page = useShown(50);
  if (!allowed) {
    return (
      <div className="page">
        <h1>Notification channels</h1>
        <div className="card muted">
          The account’s owners and admins manage notification channels; your role in this account is <strong>{account.role}</strong>.
        </div>
      </div>
    );
  }
  const test = async (c: Channel) => {
    setTesting(c.id);
    try {
      const r = await call(api.POST('/account/notification-channels/{channel_id}/test', { params: { path: { channel_id: c.id } } }));
      setResults((old) => ({ ...old, [c.id]: r }));
    } catch (e) {
      setResults((old) => ({ ...old, [c.id]: { failed: e } }));
    } finally {
      setTesting(undefined);
    }
  };
  const items = channels.data ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Notification channels</h1>
        <div className="spacer" />
        <button className="primary" onClick={() => setCreating(true)}>
          New channel
        </button>
      </div>
      <p className="muted">Every notice of the account goes to its owners and admins by email and to each channel here; contact groups can also send alerts to them.</p>
      <DataTable
        {...shownRows(items, page)}
        loading={channels.loading}
        error={channels.error}
        testId="channels"
        rowKey={(c) => c.id}
        empty="No channels yet: notices go by email only."
        columns={[
          { header: 'Name', cell: (c) => <strong>{c.name}</strong> },
          { header: 'Kind', cell: (c) => <span className="badge">{c.kind}</span> },
          { header: 'Address', className: 'mono small', cell: (c) => c.address },
          { header: 'Secret', cell: (c) => (c.has_secret ? <span className="badge completed">set</span> : <span className="muted">not set</span>) },
          { header: 'Added', className: 'muted', cell: (c) => formatTime(c.created_at) },
          { num: true, cell: (c) => <ChannelActions channel={c} testing={testing === c.id} result={results[c.id]} onTest={() => void test(c)} onDelete={() => setDeleting(c)} /> },
        ]}
      />
      <Deliveries />
      {creating && (
        <NewChannelDialog
          onClose={() => setCreating(false)}
          onCreated={async (c) => {
            setCreating(false);
            toast(`Channel ${c.name} added`);
            await channels.reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          message="Messages still queued for it fail with that reason, and contact groups stop sending to it."
          confirmLabel="Delete channel"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await call(api.DELETE('/account/notification-channels/{channel_id}', { params: { path: { channel_id: deleting.id } } }));
            await channels.reload();
          }}
        />
      )}
    </div>
  );
}

/** A channel's buttons, and what its last test send found. */
function ChannelActions({ channel: c, testing, result: r, onTest, onDelete }: {
  channel: Channel;
  testing: boolean;
  result: TestSend | { failed: unknown } | undefined;
  onTest: () => void;
  onDelete: () => void;
}) {
  return (
    <>
      <div className="row" style={{ justifyContent: 'flex-end' }}>
        <button className="small" disabled={testing} onClick={onTest}>
          {testing ? 'Sending…' : 'Send test'}
        </button>
        <button className="danger small" onClick={onDelete}>
          Delete
        </button>
      </div>
      {r && (
        <div className="small test-result" data-testid={`channel-test-${c.id}`}>
          {'failed' in r ? (
            <span className="result-failed">{(r.failed as Error).message}</span>
          ) : r.delivered ? (
            <span className="result-ok">Delivered</span>
          ) : (
            <span className="result-failed">
              Not delivered: {r.error ?? 'no reason given'}
              {r.permanent === true ? ' (permanent: fix the channel)' : r.permanent === false ? ' (transient: retrying may help)' : ''}
            </span>
          )}
        </div>
      )}
    </>
  );
}

function Deliveries() {
  const [status, setStatus] = useState('failed');
  const list = usePaged((cursor) => call(api.GET('/account/deliveries', { params: { query: { cursor, status: status || undefined } } })), [status]);
  const [error, setError] = useState<unknown>();
  return (
    <>
      <div className="row" style={{ marginTop: 24 }}>
        <h2 style={{ margin: 0 }}>Deliveries</h2>
        <select aria-label="Delivery status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="failed">failed</option>
          <option value="pending">pending</option>
          <option value="sent">sent</option>
          <option value="">all</option>
        </select>
      </div>
      <DataTable
        {...pagedRows(list)}
        error={list.error ?? error}
        testId="deliveries"
        style={{ marginTop: 8 }}
        rowKey={(d) => d.id}
        empty={status === 'failed' ? 'Nothing failed to arrive.' : 'No deliveries.'}
        columns={[
          { header: 'When', className: 'muted', cell: (d) => formatTime(d.created_at) },
          {
            header: 'Subject',
            cell: (d) => (
              <>
                {d.subject} <span className="muted small">({d.source_kind})</span>
              </>
            ),
          },
          { header: 'Channel', cell: (d) => d.channel },
          { header: 'Recipient', className: 'mono small', cell: (d) => d.recipient },
          {
            header: 'Status',
            cell: (d) => (
              <>
                <span className={'badge ' + (d.status === 'sent' ? 'completed' : d.status)}>{d.status}</span>
                <span className="muted small"> {d.attempts} attempt{d.attempts === 1 ? '' : 's'}</span>
                {d.last_error && <div className="field-error small">{d.last_error}</div>}
                {d.status === 'pending' && d.next_attempt_at && <div className="muted small">next {formatTime(d.next_attempt_at)}</div>}
              </>
            ),
          },
          {
            num: true,
            cell: (d) =>
              d.status === 'failed' && (
                <button
                  className="small"
                  onClick={async () => {
                    setError(undefined);
                    try {
                      await call(api.POST('/account/deliveries/{delivery_id}/retry', { params: { path: { delivery_id: d.id } } }));
                      toast('Queued again');
                      await list.reload();
                    } catch (e) {
                      setError(e);
                    }
                  }}
                >
                  Retry
                </button>
              ),
          },
        ]}
      />
    </>
  );
}
