// Subscriptions, and orders priced before they are placed.
import { useState } from 'react';
import { api, call, type Schemas } from '../../api/client';
import { accountStatusChanged } from '../../components/AccountStatus';
import { toast } from '../../components/toast';
import { DataTable, pagedRows } from '../../components/DataTable';
import { ConfirmDialog, ErrorNote, Field, fieldError, formError } from '../../components/ui';
import { formatTime, localInputToIso } from '../../lib/dates';
import { money, isNegative } from '../../lib/decimal';
import { useLoad, usePaged } from '../../lib/hooks';
import { count } from '../../lib/plural';
import type { ProjectsProps } from './projects';

type OrderKind = Schemas['OrderKind'];

const ORDER_KINDS: { value: OrderKind; label: string; explain: string }[] = [
  { value: 'new_purchase', label: 'New purchase', explain: 'Buy N CU for M months for a pay-as-you-go project.' },
  { value: 'renew', label: 'Renew', explain: 'Extend the term by M months at the current CU.' },
  { value: 'upgrade', label: 'Upgrade', explain: 'Raise the CU to a new total, prorated over what is left of the term.' },
  { value: 'downgrade', label: 'Downgrade', explain: 'Lower the CU to a new total; the unused part is credited to the balance.' },
  {
    value: 'renew_change',
    label: 'Renew with a CU change',
    explain: 'Extend the term by M months at a new CU total, which applies now for the rest of the term (priced as the change plus the renewal).',
  },
  { value: 'temporary_upgrade', label: 'Temporary upgrade', explain: 'Extra CU for a window inside the term (at least an hour), at the window’s share of the price.' },
  { value: 'unsubscribe', label: 'Unsubscribe', explain: 'End the subscription; the unused part of the term is refunded.' },
];

function needs(kind: OrderKind) {
  return {
    cu: kind === 'new_purchase' || kind === 'upgrade' || kind === 'downgrade' || kind === 'renew_change' || kind === 'temporary_upgrade',
    months: kind === 'new_purchase' || kind === 'renew' || kind === 'renew_change',
    window: kind === 'temporary_upgrade',
  };
}

export function SubscriptionsTab({ projects, projectName }: ProjectsProps) {
  const subs = useLoad(() => call(api.GET('/account/subscriptions')), []);
  const [kind, setKind] = useState<OrderKind>('new_purchase');
  const [projectId, setProjectId] = useState('');
  const [cu, setCu] = useState('');
  const [months, setMonths] = useState('1');
  const [startsAt, setStartsAt] = useState('');
  const [endsAt, setEndsAt] = useState('');
  const [quote, setQuote] = useState<{ key: string; quote: Schemas['OrderQuote'] }>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const n = needs(kind);
  const project = projectId || projects[0]?.id || '';
  const request: Schemas['OrderRequest'] = {
    kind,
    project_id: project,
    ...(n.cu ? { cu: cu.trim() === '' ? null : Number(cu) } : {}),
    ...(n.months ? { months: months.trim() === '' ? null : Number(months) } : {}),
    ...(n.window ? { starts_at: localInputToIso(startsAt) ?? null, ends_at: localInputToIso(endsAt) ?? null } : {}),
  };
  const key = JSON.stringify(request);
  const current = quote?.key === key ? quote.quote : undefined;
  const subscribed = new Map((subs.data ?? []).map((s) => [s.project_id, s]));

  const preview = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const q = await call(api.POST('/account/orders/preview', { body: request }));
      setQuote({ key, quote: q });
    } catch (e) {
      setError(e);
      setQuote(undefined);
    } finally {
      setBusy(false);
    }
  };
  const orders = usePaged((cursor) => call(api.GET('/account/orders', { params: { query: { cursor } } })), []);
  const place = async () => {
    const o = await call(api.POST('/account/orders', { body: request }));
    toast(`Order placed: ${money(o.amount, o.currency)} ${isNegative(o.amount) ? 'credited to' : 'paid from'} the balance`);
    setQuote(undefined);
    await Promise.all([subs.reload(), orders.reload()]);
    accountStatusChanged();
  };
  const fields = ['kind', 'project_id', 'cu', 'months', 'starts_at', 'ends_at'];
  const [renewError, setRenewError] = useState<unknown>();
  // Automatic renewal from the balance before the term ends, for the months it renews by.
  const setAutoRenew = async (s: Schemas['Subscription'], enabled: boolean) => {
    setRenewError(undefined);
    try {
      await call(
        api.PUT('/account/subscriptions/{project_id}/auto-renew', {
          params: { path: { project_id: s.project_id } },
          body: { enabled, months: s.renewal_months },
        }),
      );
      toast(`${projectName(s.project_id)}: automatic renewal ${enabled ? 'on' : 'off'}`);
      await subs.reload();
    } catch (e) {
      setRenewError(e);
    }
  };
  return (
    <div>
      <h2 style={{ marginTop: 0 }}>Subscriptions</h2>
      <ErrorNote error={renewError} />
      <DataTable
        rows={subs.data ?? []}
        loading={subs.loading}
        error={subs.error}
        testId="subscriptions"
        rowKey={(s) => s.project_id}
        empty="No subscriptions: every project is pay-as-you-go."
        columns={[
          { header: 'Project', cell: (s) => projectName(s.project_id) },
          { header: 'CU bought', num: true, cell: (s) => s.cu },
          { header: 'Temporary CU now', num: true, cell: (s) => s.temporary_cu || '—' },
          {
            header: 'CU in use',
            num: true,
            cell: (s) => (
              <>
                {s.cu_in_use} / {s.cu + s.temporary_cu}
              </>
            ),
          },
          {
            header: 'Term',
            className: 'muted',
            cell: (s) => (
              <>
                {formatTime(s.term_start)} – {formatTime(s.term_end)}
              </>
            ),
          },
          {
            header: 'Renews itself',
            cell: (s) => (
              <span data-testid="auto-renew">
                {s.auto_renew ? `Yes, ${count(s.renewal_months, 'month')} at a time, from the balance` : 'No'}{' '}
                <button type="button" className="small" onClick={() => void setAutoRenew(s, !s.auto_renew)}>
                  {s.auto_renew ? 'Turn off' : 'Turn on'}
                </button>
              </span>
            ),
          },
          {
            header: 'Temporary upgrades',
            className: 'small',
            cell: (s) =>
              s.temporary_upgrades.length === 0
                ? '—'
                : s.temporary_upgrades.map((t) => (
                    <div key={t.order_id}>
                      +{t.cu} CU {formatTime(t.starts_at)} – {formatTime(t.ends_at)}
                    </div>
                  )),
          },
        ]}
      />

      <h2>New order</h2>
      <form
        className="card order-form"
        onSubmit={(e) => {
          e.preventDefault();
          void preview();
        }}
      >
        <div className="fields-2">
          <Field label="Order" error={fieldError(error, 'kind')} hint={ORDER_KINDS.find((k) => k.value === kind)?.explain}>
            {(p) => (
              <select {...p} value={kind} onChange={(e) => setKind(e.target.value as OrderKind)} style={{ width: '100%' }}>
                {ORDER_KINDS.map((k) => (
                  <option key={k.value} value={k.value}>
                    {k.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label="Project"
            error={fieldError(error, 'project_id')}
            hint={subscribed.get(project) ? `Subscribed: ${subscribed.get(project)!.cu} CU until ${formatTime(subscribed.get(project)!.term_end)}` : 'Pay-as-you-go now.'}
          >
            {(p) => (
              <select {...p} value={project} onChange={(e) => setProjectId(e.target.value)} style={{ width: '100%' }}>
                {projects.map((pr) => (
                  <option key={pr.id} value={pr.id}>
                    {pr.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <div className="fields-2">
          {n.cu && (
            <Field
              label={kind === 'temporary_upgrade' ? 'Extra CU' : kind === 'new_purchase' ? 'CU' : 'New total CU'}
              error={fieldError(error, 'cu')}
              hint="Whole CU, 1 to 1000 (1 CU = 1 core + 4 GiB)."
            >
              {(p) => <input {...p} type="number" min={1} max={1000} step={1} value={cu} onChange={(e) => setCu(e.target.value)} style={{ width: '100%' }} />}
            </Field>
          )}
          {n.months && (
            <Field label="Months" error={fieldError(error, 'months')} hint="Whole months, 1 to 36.">
              {(p) => <input {...p} type="number" min={1} max={36} step={1} value={months} onChange={(e) => setMonths(e.target.value)} style={{ width: '100%' }} />}
            </Field>
          )}
          {n.window && (
            <>
              <Field label="Starts" error={fieldError(error, 'starts_at')} hint="Empty: now.">
                {(p) => <input {...p} type="datetime-local" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} style={{ width: '100%' }} />}
              </Field>
              <Field label="Ends" error={fieldError(error, 'ends_at')} hint="Inside the term, at least an hour after the start.">
                {(p) => <input {...p} type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} style={{ width: '100%' }} />}
              </Field>
            </>
          )}
        </div>
        <ErrorNote error={formError(error, fields)} />
        {current && (
          <div className="quote" data-testid="order-quote">
            <div>
              <strong>{money(current.amount, current.currency)}</strong> {isNegative(current.amount) ? 'credited to' : 'paid from'} the balance now.
            </div>
            <div className="muted small">
              After it: {current.cu} CU, term {formatTime(current.term_start)} – {formatTime(current.term_end)}
              {current.months ? `, ${count(current.months, 'month')} bought` : ''}
              {current.window_start && current.window_end ? `; extra CU ${formatTime(current.window_start)} – ${formatTime(current.window_end)}` : ''}
            </div>
          </div>
        )}
        <div className="row" style={{ marginTop: 8 }}>
          <button type="submit" disabled={busy || !project}>
            {busy ? 'Pricing…' : 'Preview price'}
          </button>
          <button type="button" className="primary" disabled={!current} onClick={() => setConfirming(true)} title={current ? undefined : 'Preview the price first'}>
            Place order
          </button>
        </div>
      </form>
      {confirming && current && (
        <ConfirmDialog
          title="Place this order?"
          message={
            <p>
              {ORDER_KINDS.find((k) => k.value === current.kind)?.label} for <strong>{projectName(current.project_id)}</strong>:{' '}
              <strong>{money(current.amount, current.currency)}</strong> {isNegative(current.amount) ? 'credited to' : 'paid from'} the balance at once.
            </p>
          }
          confirmLabel="Place order"
          onClose={() => setConfirming(false)}
          onConfirm={place}
        />
      )}
      <h2>Orders</h2>
      <DataTable
        {...pagedRows(orders)}
        testId="orders"
        rowKey={(o) => o.id}
        empty="No orders yet."
        columns={[
          { header: 'Placed', className: 'muted', cell: (o) => formatTime(o.created_at) },
          {
            header: 'Order',
            cell: (o) => (
              <>
                {ORDER_KINDS.find((k) => k.value === o.kind)?.label ?? o.kind}
                {o.window_start && o.window_end ? (
                  <span className="muted small">
                    {' '}
                    {formatTime(o.window_start)} – {formatTime(o.window_end)}
                  </span>
                ) : null}
              </>
            ),
          },
          { header: 'Project', cell: (o) => projectName(o.project_id) },
          { header: 'CU', num: true, cell: (o) => o.cu },
          { header: 'Months', num: true, cell: (o) => o.months || '–' },
          { header: 'Amount', num: true, cell: (o) => money(o.amount, o.currency) },
        ]}
      />
    </div>
  );
}
