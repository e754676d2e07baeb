// The monthly bills: totals, each one's lines and credit notes, and its CSV.
import { useState } from 'react';
import { API_BASE, api, call, type Schemas } from '../../api/client';
import { ErrorNote, LoadMore } from '../../components/ui';
import { formatMonth, formatTime } from '../../lib/dates';
import { money } from '../../lib/decimal';
import { useLoad, useShown } from '../../lib/hooks';
import type { ProjectsProps } from './projects';

const LINE_KINDS: Record<string, string> = { payg_compute: 'compute', payg_management: 'management', order: 'order (prepaid)' };

export function BillsTab({ projectName }: Pick<ProjectsProps, 'projectName'>) {
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
