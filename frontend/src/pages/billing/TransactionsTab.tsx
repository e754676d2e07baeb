// Every movement of the balance: top-ups, bills paid, orders, refunds.
import { api, call } from '../../api/client';
import { ErrorNote, LoadMore } from '../../components/ui';
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
