// Billing: the balance (and arrears), what ran (usage by day and deployment), what it
// cost hour by hour, the monthly bills with their lines and CSV, subscriptions and
// orders priced before they are placed, and every movement of the balance.
//
// Money is the API's decimal text, shown as given; sums the console makes itself use
// exact decimal arithmetic (lib/decimal), never floats. Charts plot CU-hours only.
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { API_BASE, api, call, type Schemas } from '../api/client';
import { accountStatusChanged, canReadBilling } from '../components/AccountStatus';
import { Chart, type Series } from '../components/Chart';
import { toast } from '../components/toast';
import { ConfirmDialog, ErrorNote, Field, LoadMore, fieldError, formError } from '../components/ui';
import { epochSeconds, formatClock, formatMonth, formatTime, lastDays, localInputToIso } from '../lib/dates';
import { money, sumDecimals, isNegative, isPositiveAmount } from '../lib/decimal';
import { fetchAll, useLoad, usePaged, useVisiblePolling } from '../lib/hooks';
import { useSession } from '../session';

type Project = Schemas['Project'];
type OrderKind = Schemas['OrderKind'];

const TABS = [
  { key: 'usage', label: 'Usage' },
  { key: 'hours', label: 'Hourly charges' },
  { key: 'bills', label: 'Bills' },
  { key: 'subscriptions', label: 'Subscriptions & orders' },
  { key: 'transactions', label: 'Transactions' },
] as const;
type Tab = (typeof TABS)[number]['key'];

const COLORS = ['#1f6feb', '#1b7f3b', '#c62828', '#9a6700', '#6f42c1', '#0a7ea4', '#d9480f', '#5c677d'];

function useProjects() {
  const loaded = useLoad(() => fetchAll((cursor) => call(api.GET('/projects', { params: { query: { cursor, limit: 200 } } }))), []);
  const byId = useMemo(() => new Map((loaded.data ?? []).map((p) => [p.id, p])), [loaded.data]);
  return { projects: loaded.data ?? [], name: (id: string) => byId.get(id)?.name ?? id };
}

export function BillingPage() {
  const { account } = useSession();
  const [search, setSearch] = useSearchParams();
  const tab = (TABS.find((t) => t.key === search.get('tab'))?.key ?? 'usage') as Tab;
  const projects = useProjects();
  if (!canReadBilling(account.role)) {
    return (
      <div className="page">
        <div className="page-head">
          <h1>Billing</h1>
          <span className="muted">{account.name}</span>
        </div>
        <div className="card muted">
          Billing is for the account’s owners and billing managers; your role here is <strong>{account.role}</strong>. Ask an
          owner to make you a billing manager to see the balance, usage and bills.
        </div>
      </div>
    );
  }
  return (
    <div className="page">
      <div className="page-head">
        <h1>Billing</h1>
        <span className="muted">{account.name}</span>
      </div>
      <BalancePanel />
      <div className="tabs page-tabs" role="tablist">
        {TABS.map((t) => (
          <button key={t.key} role="tab" aria-selected={tab === t.key} onClick={() => setSearch(t.key === 'usage' ? {} : { tab: t.key }, { replace: true })}>
            {t.label}
          </button>
        ))}
      </div>
      <div className="tab-body">
        {tab === 'usage' && <UsageTab projects={projects.projects} projectName={projects.name} />}
        {tab === 'hours' && <HoursTab projects={projects.projects} projectName={projects.name} />}
        {tab === 'bills' && <BillsTab projectName={projects.name} />}
        {tab === 'subscriptions' && <SubscriptionsTab projects={projects.projects} projectName={projects.name} />}
        {tab === 'transactions' && <TransactionsTab />}
      </div>
    </div>
  );
}

function BalancePanel() {
  const balance = useLoad(() => call(api.GET('/account/balance')), []);
  const settings = useLoad(() => call(api.GET('/account/billing')), []);
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const b = balance.data;
  const topUp = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const nb = await call(api.POST('/account/balance/top-ups', { body: { amount: amount.trim() } }));
      balance.set(nb);
      setAmount('');
      toast(`Balance topped up: now ${money(nb.balance, nb.currency)}`);
      accountStatusChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <ErrorNote error={balance.error} />
      {b?.arrears_since && (
        <div className="alert error" data-testid="arrears">
          <strong>In arrears since {formatTime(b.arrears_since)}.</strong> Pay-as-you-go deployments were stopped with a
          savepoint and starts are refused until the unpaid bills ({money(b.unpaid_total, b.currency)}) are paid from the
          balance. Nothing restarts by itself afterwards: start the deployments again.
        </div>
      )}
      <div className="usage">
        <div className="item">
          <div className="muted small">Balance</div>
          <div className={'n' + (b && isNegative(b.balance) ? ' negative' : '')} data-testid="balance">
            {b ? money(b.balance, b.currency) : '…'}
          </div>
        </div>
        <div className="item">
          <div className="muted small">Unpaid bills</div>
          <div className="n">
            {b ? `${b.unpaid_bills} · ${money(b.unpaid_total, b.currency)}` : '…'}
          </div>
        </div>
        {settings.data && (
          <div className="item">
            <div className="muted small">Pay-as-you-go price</div>
            <div className="n">{money(settings.data.cu_hour_price, settings.data.currency)} / CU-hour</div>
            <div className="muted small">
              plus 2 CU × price per hour anything runs · cut in {settings.data.billing_time_zone}
            </div>
          </div>
        )}
        <form
          className="item topup"
          onSubmit={(e) => {
            e.preventDefault();
            void topUp();
          }}
        >
          <Field
            label={`Top up${b ? ` (${b.currency})` : ''}`}
            error={fieldError(error, 'amount')}
            hint="Pays unpaid bills first, oldest first; clears arrears."
          >
            {(p) => (
              <div className="row">
                <input {...p} inputMode="decimal" placeholder="100.00" value={amount} onChange={(e) => setAmount(e.target.value)} style={{ width: 110 }} />
                <button className="primary" disabled={busy || !isPositiveAmount(amount)}>
                  {busy ? 'Working…' : 'Top up'}
                </button>
              </div>
            )}
          </Field>
          <ErrorNote error={formError(error, ['amount'])} />
        </form>
      </div>
    </>
  );
}

function UsageTab({ projects, projectName }: { projects: Project[]; projectName: (id: string) => string }) {
  const [days, setDays] = useState(30);
  const [bucket, setBucket] = useState<'day' | 'hour'>('day');
  const [projectId, setProjectId] = useState('');
  const range = useMemo(() => lastDays(days), [days]);
  const usage = useLoad(
    () => call(api.GET('/account/billing/usage', { params: { query: { ...range, bucket, project_id: projectId || undefined } } })),
    [range, bucket, projectId],
  );
  useVisiblePolling(() => void usage.reload(), 30000);
  const points = useMemo(() => usage.data ?? [], [usage.data]);

  // Names as the usage points carry them (null once deleted: the id stands in).
  const names = useMemo(() => {
    const d = new Map<string, string>();
    const p = new Map<string, string>();
    for (const u of points) {
      if (u.deployment_name) d.set(u.deployment_id, u.deployment_name);
      if (u.project_name) p.set(u.project_id, u.project_name);
    }
    return { d, p };
  }, [points]);
  const deploymentName = (id: string) => names.d.get(id);
  const usageProjectName = (id: string) => names.p.get(id) ?? projectName(id);

  // One row per deployment, the buckets summed exactly.
  const rows = useMemo(() => {
    const by = new Map<string, { project_id: string; deployment_id: string; values: string[] }>();
    for (const u of points) {
      const r = by.get(u.deployment_id) ?? { project_id: u.project_id, deployment_id: u.deployment_id, values: [] };
      r.values.push(u.cu_hours);
      by.set(u.deployment_id, r);
    }
    return [...by.values()]
      .map((r) => ({ ...r, cu_hours: sumDecimals(r.values) }))
      .sort((a, b) => Number(b.cu_hours) - Number(a.cu_hours));
  }, [points]);
  const total = useMemo(() => sumDecimals(rows.map((r) => r.cu_hours)), [rows]);

  // The chart: one line per deployment (the biggest few; the rest summed), and the total.
  const chart = useMemo(() => {
    // Every bucket of the range, not only those with usage, so a quiet day reads as 0
    // and a single busy day still draws a line. Buckets are cut in the billing time
    // zone: step from one the API gave (an hour, or a day).
    const step = bucket === 'hour' ? 3600 : 86400;
    const given = points.map((p) => epochSeconds(p.bucket_start));
    const start = epochSeconds(range.from);
    const end = epochSeconds(range.to);
    const anchor = given[0] ?? Math.floor(start / step) * step;
    const filled: number[] = [];
    for (let t = anchor - Math.ceil((anchor - start) / step) * step; t < end; t += step) filled.push(t);
    const times = [...new Set([...filled, ...given])].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const top = rows.slice(0, COLORS.length - 1).map((r) => r.deployment_id);
    const lines = new Map<string, number[]>();
    const totalLine = times.map(() => 0);
    for (const p of points) {
      const key = top.includes(p.deployment_id) ? p.deployment_id : 'others';
      const arr = lines.get(key) ?? times.map(() => 0);
      const i = index.get(epochSeconds(p.bucket_start))!;
      const v = Number(p.cu_hours);
      arr[i] = (arr[i] ?? 0) + v;
      totalLine[i] = (totalLine[i] ?? 0) + v;
      lines.set(key, arr);
    }
    const series: Series[] = [...lines.entries()].map(([key, values], i) => ({
      label: key === 'others' ? 'other deployments' : (names.d.get(key) ?? key.slice(0, 8)),
      values,
      color: COLORS[i % COLORS.length]!,
    }));
    if (series.length > 1) series.push({ label: 'total', values: totalLine, color: '#17202b' });
    return { times, series };
  }, [points, rows, names, bucket, range]);

  return (
    <div>
      <div className="row filters">
        <label className="row">
          <span className="muted">Range</span>
          <select aria-label="Range" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            <option value={1}>Last day</option>
            <option value={7}>Last 7 days</option>
            <option value={30}>Last 30 days</option>
            <option value={61}>Last 61 days</option>
          </select>
        </label>
        <label className="row">
          <span className="muted">By</span>
          <select aria-label="Bucket" value={bucket} onChange={(e) => setBucket(e.target.value as 'day' | 'hour')}>
            <option value="day">day</option>
            <option value="hour">hour</option>
          </select>
        </label>
        <label className="row">
          <span className="muted">Project</span>
          <select aria-label="Project" value={projectId} onChange={(e) => setProjectId(e.target.value)}>
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <div className="spacer" />
        <span className="muted small">CU-hours actually held, from the recorded run intervals (what was charged: Hourly charges).</span>
      </div>
      <ErrorNote error={usage.error} />
      <div className="usage">
        <div className="item">
          <div className="muted small">CU-hours</div>
          <div className="n" data-testid="usage-total">
            {total}
          </div>
        </div>
      </div>
      <Chart title={`CU-hours by ${bucket}`} times={chart.times} series={chart.series} />
      <h2>By deployment</h2>
      <table className="list" data-testid="usage">
        <thead>
          <tr>
            <th>Project</th>
            <th>Deployment</th>
            <th className="num">CU-hours</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.deployment_id}>
              <td>{usageProjectName(r.project_id)}</td>
              <td>
                <Link to={`/projects/${r.project_id}/deployments/${r.deployment_id}`}>
                  {deploymentName(r.deployment_id) ?? 'deleted deployment'}
                </Link>{' '}
                <span className="mono small muted">{r.deployment_id}</span>
              </td>
              <td className="num">{r.cu_hours}</td>
            </tr>
          ))}
          {!usage.loading && rows.length === 0 && (
            <tr>
              <td colSpan={3} className="empty">
                Nothing has run in this range.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** Shows a long list `step` rows at a time. */
function useShown(step = 100) {
  const [shown, setShown] = useState(step);
  return { shown, more: () => setShown((n) => n + step), reset: () => setShown(step) };
}

function HoursTab({ projects, projectName }: { projects: Project[]; projectName: (id: string) => string }) {
  const [days, setDays] = useState(2);
  const [projectId, setProjectId] = useState('');
  const range = useMemo(() => lastDays(days), [days]);
  const hours = useLoad(
    () => call(api.GET('/account/billing/hours', { params: { query: { ...range, project_id: projectId || undefined } } })),
    [range, projectId],
  );
  const page = useShown();
  // Newest first on screen; the API gives oldest first.
  const items = useMemo(() => [...(hours.data?.items ?? [])].reverse(), [hours.data]);
  return (
    <div>
      <div className="row filters">
        <label className="row">
          <span className="muted">Range</span>
          <select aria-label="Range" value={days} onChange={(e) => (setDays(Number(e.target.value)), page.reset())}>
            <option value={1}>Last day</option>
            <option value={2}>Last 2 days</option>
            <option value={7}>Last 7 days</option>
            <option value={31}>Last 31 days</option>
            <option value={61}>Last 61 days</option>
          </select>
        </label>
        <label className="row">
          <span className="muted">Project</span>
          <select aria-label="Project" value={projectId} onChange={(e) => (setProjectId(e.target.value), page.reset())}>
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <div className="spacer" />
        <span className="muted small">Each hour is rated once: compute (CU-hours × price) plus management (2 CU × price), each line rounded half to even.</span>
      </div>
      <ErrorNote error={hours.error} />
      {hours.data && (
        <div className="usage">
          <div className="item">
            <div className="muted small">Total in range</div>
            <div className="n" data-testid="hours-total">
              {money(hours.data.total, hours.data.currency)}
            </div>
          </div>
          <div className="item">
            <div className="muted small">Hours rated</div>
            <div className="n">{hours.data.items.length}</div>
          </div>
        </div>
      )}
      <table className="list" data-testid="hours">
        <thead>
          <tr>
            <th>Hour</th>
            <th>Project</th>
            <th className="num">CU-hours</th>
            <th className="num">Compute</th>
            <th className="num">Management</th>
            <th className="num">Total</th>
          </tr>
        </thead>
        <tbody>
          {items.slice(0, page.shown).map((h) => (
            <tr key={h.project_id + h.window_start}>
              <td className="muted">
                {formatTime(h.window_start)} – {formatClock(h.window_end)}
              </td>
              <td>{projectName(h.project_id)}</td>
              <td className="num">{h.cu_hours}</td>
              <td className="num">{h.compute}</td>
              <td className="num">{h.management}</td>
              <td className="num">{money(h.total, h.currency)}</td>
            </tr>
          ))}
          {!hours.loading && items.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No pay-as-you-go hours in this range.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <LoadMore hasMore={items.length > page.shown} loading={false} onMore={page.more} />
    </div>
  );
}

const LINE_KINDS: Record<string, string> = { payg_compute: 'compute', payg_management: 'management', order: 'order (prepaid)' };

function BillsTab({ projectName }: { projectName: (id: string) => string }) {
  const bills = useLoad(() => call(api.GET('/account/bills')), []);
  const [open, setOpen] = useState<string>();
  const page = useShown(24);
  const items = bills.data ?? [];
  return (
    <div>
      <ErrorNote error={bills.error} />
      <table className="list" data-testid="bills">
        <thead>
          <tr>
            <th>Month</th>
            <th>Issued</th>
            <th className="num">Total</th>
            <th className="num">Prepaid</th>
            <th className="num">Due</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {items.slice(0, page.shown).map((b) => (
            <BillRow key={b.id} bill={b} open={open === b.id} onToggle={() => setOpen(open === b.id ? undefined : b.id)} projectName={projectName} />
          ))}
          {!bills.loading && items.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No bills yet: the first is issued after a month ends.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <LoadMore hasMore={items.length > page.shown} loading={false} onMore={page.more} />
    </div>
  );
}

function BillRow({ bill: b, open, onToggle, projectName }: { bill: Schemas['Bill']; open: boolean; onToggle: () => void; projectName: (id: string) => string }) {
  const month = formatMonth(b.period_start, { timeZone: b.billing_time_zone });
  return (
    <>
      <tr>
        <td>
          <button className="ghost small" aria-expanded={open} onClick={onToggle}>
            {open ? '▾' : '▸'} {month}
          </button>
        </td>
        <td className="muted">{formatTime(b.issued_at)}</td>
        <td className="num">{money(b.total, b.currency)}</td>
        <td className="num">{money(b.prepaid, b.currency)}</td>
        <td className="num">
          <strong>{money(b.due, b.currency)}</strong>
        </td>
        <td className="num">
          <a className="button small" href={`${API_BASE}/account/bills/${encodeURIComponent(b.id)}/csv`} download>
            CSV
          </a>
        </td>
      </tr>
      {open && (
        <tr className="bill-detail">
          <td colSpan={6}>
            <table className="list inner" data-testid={`bill-lines-${b.id}`}>
              <thead>
                <tr>
                  <th>Project</th>
                  <th>Kind</th>
                  <th>Description</th>
                  <th className="num">Quantity</th>
                  <th className="num">Hours</th>
                  <th className="num">Amount</th>
                </tr>
              </thead>
              <tbody>
                {b.lines.map((l, i) => (
                  <tr key={i}>
                    <td>{projectName(l.project_id)}</td>
                    <td>{LINE_KINDS[l.kind] ?? l.kind}</td>
                    <td>
                      {l.description}
                      {l.order_id && <span className="muted small mono"> order {l.order_id}</span>}
                    </td>
                    <td className="num">{l.quantity}</td>
                    <td className="num">{l.hour_count || ''}</td>
                    <td className="num">{money(l.amount, b.currency)}</td>
                  </tr>
                ))}
                <tr className="total-row">
                  <td colSpan={5}>Total (sum of lines) · less prepaid {money(b.prepaid, b.currency)} · due</td>
                  <td className="num">
                    {money(b.total, b.currency)} · {money(b.due, b.currency)}
                  </td>
                </tr>
              </tbody>
            </table>
            {b.credit_notes.length > 0 && (
              <>
                <h3>Credit notes</h3>
                <ul>
                  {b.credit_notes.map((c) => (
                    <li key={c.id}>
                      {money(c.amount, b.currency)}: {c.reason} <span className="muted small">{formatTime(c.created_at)}</span>
                    </li>
                  ))}
                </ul>
              </>
            )}
            <div className="muted small">
              Period {formatTime(b.period_start)} – {formatTime(b.period_end)} ({b.billing_time_zone})
            </div>
          </td>
        </tr>
      )}
    </>
  );
}

const ORDER_KINDS: { value: OrderKind; label: string; explain: string }[] = [
  { value: 'new_purchase', label: 'New purchase', explain: 'Buy N CU for M months for a pay-as-you-go project.' },
  { value: 'renew', label: 'Renew', explain: 'Extend the term by M months at the current CU.' },
  { value: 'upgrade', label: 'Upgrade', explain: 'Raise the CU to a new total, prorated over what is left of the term.' },
  { value: 'downgrade', label: 'Downgrade', explain: 'Lower the CU to a new total; the unused part is credited to the balance.' },
  { value: 'temporary_upgrade', label: 'Temporary upgrade', explain: 'Extra CU for a window inside the term (at least an hour), at the window’s share of the price.' },
  { value: 'unsubscribe', label: 'Unsubscribe', explain: 'End the subscription; the unused part of the term is refunded.' },
];

function needs(kind: OrderKind) {
  return {
    cu: kind === 'new_purchase' || kind === 'upgrade' || kind === 'downgrade' || kind === 'temporary_upgrade',
    months: kind === 'new_purchase' || kind === 'renew',
    window: kind === 'temporary_upgrade',
  };
}

function SubscriptionsTab({ projects, projectName }: { projects: Project[]; projectName: (id: string) => string }) {
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
  return (
    <div>
      <h2 style={{ marginTop: 0 }}>Subscriptions</h2>
      <ErrorNote error={subs.error} />
      <table className="list" data-testid="subscriptions">
        <thead>
          <tr>
            <th>Project</th>
            <th className="num">CU bought</th>
            <th className="num">Temporary CU now</th>
            <th className="num">CU in use</th>
            <th>Term</th>
            <th>Temporary upgrades</th>
          </tr>
        </thead>
        <tbody>
          {(subs.data ?? []).map((s) => (
            <tr key={s.project_id}>
              <td>{projectName(s.project_id)}</td>
              <td className="num">{s.cu}</td>
              <td className="num">{s.temporary_cu || '—'}</td>
              <td className="num">
                {s.cu_in_use} / {s.cu + s.temporary_cu}
              </td>
              <td className="muted">
                {formatTime(s.term_start)} – {formatTime(s.term_end)}
              </td>
              <td className="small">
                {s.temporary_upgrades.length === 0
                  ? '—'
                  : s.temporary_upgrades.map((t) => (
                      <div key={t.order_id}>
                        +{t.cu} CU {formatTime(t.starts_at)} – {formatTime(t.ends_at)}
                      </div>
                    ))}
              </td>
            </tr>
          ))}
          {!subs.loading && (subs.data ?? []).length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No subscriptions: every project is pay-as-you-go.
              </td>
            </tr>
          )}
        </tbody>
      </table>

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
              {current.months ? `, ${current.months} month${current.months === 1 ? '' : 's'} bought` : ''}
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
      <ErrorNote error={orders.error} />
      <table className="list" data-testid="orders">
        <thead>
          <tr>
            <th>Placed</th>
            <th>Order</th>
            <th>Project</th>
            <th className="num">CU</th>
            <th className="num">Months</th>
            <th className="num">Amount</th>
          </tr>
        </thead>
        <tbody>
          {orders.items.map((o) => (
            <tr key={o.id}>
              <td className="muted">{formatTime(o.created_at)}</td>
              <td>
                {ORDER_KINDS.find((k) => k.value === o.kind)?.label ?? o.kind}
                {o.window_start && o.window_end ? (
                  <span className="muted small">
                    {' '}
                    {formatTime(o.window_start)} – {formatTime(o.window_end)}
                  </span>
                ) : null}
              </td>
              <td>{projectName(o.project_id)}</td>
              <td className="num">{o.cu}</td>
              <td className="num">{o.months || '–'}</td>
              <td className="num">{money(o.amount, o.currency)}</td>
            </tr>
          ))}
          {!orders.loading && orders.items.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No orders yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <LoadMore hasMore={orders.hasMore} loading={orders.loading} onMore={() => void orders.loadMore()} />
    </div>
  );
}

function TransactionsTab() {
  const tx = useLoad(() => call(api.GET('/account/balance/transactions')), []);
  const balance = useLoad(() => call(api.GET('/account/balance')), []);
  const page = useShown();
  const items = tx.data ?? [];
  const currency = balance.data?.currency ?? '';
  return (
    <div>
      <ErrorNote error={tx.error} />
      <table className="list" data-testid="transactions">
        <thead>
          <tr>
            <th>When</th>
            <th>Kind</th>
            <th>Reference</th>
            <th>By</th>
            <th className="num">Amount</th>
          </tr>
        </thead>
        <tbody>
          {items.slice(0, page.shown).map((t) => (
            <tr key={t.id}>
              <td className="muted">{formatTime(t.created_at)}</td>
              <td>{t.kind.replace('_', '-')}</td>
              <td className="mono small">{t.reference_id}</td>
              <td className="small">{t.created_by}</td>
              <td className={'num' + (isNegative(t.amount) ? ' negative' : ' positive')}>
                {money(t.amount, currency)}
              </td>
            </tr>
          ))}
          {!tx.loading && items.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No movements yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <LoadMore hasMore={items.length > page.shown} loading={false} onMore={page.more} />
    </div>
  );
}
