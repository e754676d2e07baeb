// The monthly bills: totals, each one's lines and credit notes, and its CSV.
import { useState } from 'react';
import { API_BASE, api, call, type Schemas } from '../../api/client';
import { DataTable, shownRows } from '../../components/DataTable';
import { formatMonth, formatTime } from '../../lib/dates';
import { money } from '../../lib/decimal';
import { useLoad, useShown } from '../../lib/hooks';
import type { ProjectsProps } from './projects';
import { CuHours, managementFeeWords } from './words';

const LINE_KINDS: Record<string, string> = { payg_compute: 'compute', payg_management: 'management fee', order: 'order (prepaid)' };

/** `feeRule`: when the management fee is charged (GET /account/billing's `management_fee`). */
export function BillsTab({ projectName, feeRule }: Pick<ProjectsProps, 'projectName'> & { feeRule?: string }) {
  const bills = useLoad(() => call(api.GET('/account/bills')), []);
  const [open, setOpen] = useState<string>();
  const page = useShown(24);
  return (
    <div>
      <DataTable
        {...shownRows(bills.data ?? [], page)}
        loading={bills.loading}
        error={bills.error}
        testId="bills"
        rowKey={(b) => b.id}
        empty="No bills yet: the first is issued after a month ends."
        detail={(b) => open === b.id && <BillDetail bill={b} projectName={projectName} feeRule={feeRule} />}
        columns={[
          {
            header: 'Month',
            cell: (b) => (
              <button className="ghost small" aria-expanded={open === b.id} onClick={() => setOpen(open === b.id ? undefined : b.id)}>
                {open === b.id ? '▾' : '▸'} {formatMonth(b.period_start, { timeZone: b.billing_time_zone })}
              </button>
            ),
          },
          { header: 'Issued', className: 'muted', cell: (b) => formatTime(b.issued_at) },
          { header: 'Total', num: true, cell: (b) => money(b.total, b.currency) },
          { header: 'Prepaid', num: true, cell: (b) => money(b.prepaid, b.currency) },
          { header: 'Due', num: true, cell: (b) => <strong>{money(b.due, b.currency)}</strong> },
          {
            num: true,
            cell: (b) => (
              <a className="button small" href={`${API_BASE}/account/bills/${encodeURIComponent(b.id)}/csv`} download>
                CSV
              </a>
            ),
          },
        ]}
      />
    </div>
  );
}

/** An opened bill: its lines and their total, its credit notes, its period. */
function BillDetail({ bill: b, projectName, feeRule }: { bill: Schemas['Bill']; projectName: (id: string) => string; feeRule?: string }) {
  return (
    <tr className="bill-detail">
      <td colSpan={6}>
        <DataTable
          className="list inner"
          testId={`bill-lines-${b.id}`}
          rows={b.lines}
          rowKey={(_, i) => i}
          columns={[
            { header: 'Project', cell: (l) => projectName(l.project_id) },
            {
              header: 'Kind',
              cell: (l) =>
                l.kind === 'payg_management' ? (
                  <span title={managementFeeWords(feeRule)} className="explained">
                    {LINE_KINDS[l.kind]}
                  </span>
                ) : (
                  (LINE_KINDS[l.kind] ?? l.kind)
                ),
            },
            {
              header: 'Description',
              cell: (l) => (
                <>
                  {l.description}
                  {l.order_id && <span className="muted small mono"> order {l.order_id}</span>}
                </>
              ),
            },
            { header: 'Quantity', num: true, cell: (l) => (l.kind === 'payg_compute' ? <><CuHours value={l.quantity} /> CU-h</> : l.quantity) },
            { header: 'Hours', num: true, cell: (l) => l.hour_count || '' },
            { header: 'Amount', num: true, cell: (l) => money(l.amount, b.currency) },
          ]}
          tail={
            <tr className="total-row">
              <td colSpan={5}>Total (sum of lines) · less prepaid {money(b.prepaid, b.currency)} · due</td>
              <td className="num">
                {money(b.total, b.currency)} · {money(b.due, b.currency)}
              </td>
            </tr>
          }
        />
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
  );
}
