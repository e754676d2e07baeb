// Every movement of the balance: top-ups, bills paid, orders, refunds.
import { api, call } from '../../api/client';
import { DataTable, shownRows } from '../../components/DataTable';
import { formatTime } from '../../lib/dates';
import { money, isNegative } from '../../lib/decimal';
import { useLoad, useShown } from '../../lib/hooks';

export function TransactionsTab() {
  const tx = useLoad(() => call(api.GET('/account/balance/transactions')), []);
  const balance = useLoad(() => call(api.GET('/account/balance')), []);
  const page = useShown();
  const items = tx.data ?? [];
  const currency = balance.data?.currency ?? '';
  return (
    <div>
      <DataTable
        {...shownRows(items, page)}
        loading={tx.loading}
        error={tx.error}
        testId="transactions"
        rowKey={(t) => t.id}
        empty="No movements yet."
        columns={[
          { header: 'When', className: 'muted', cell: (t) => formatTime(t.created_at) },
          { header: 'Kind', cell: (t) => t.kind.replace('_', '-') },
          { header: 'Reference', className: 'mono small', cell: (t) => t.reference_id },
          { header: 'By', className: 'small', cell: (t) => t.created_by },
          { header: 'Amount', num: true, className: (t) => (isNegative(t.amount) ? 'negative' : 'positive'), cell: (t) => money(t.amount, currency) },
        ]}
      />
    </div>
  );
}
