// The account's balance, its arrears if any, the pay-as-you-go price, and topping up.
import { useState } from 'react';
import { api, call } from '../../api/client';
import { accountStatusChanged } from '../../components/AccountStatus';
import { toast } from '../../components/toast';
import { ErrorNote, Field, fieldError, formError } from '../../components/ui';
import { formatTime } from '../../lib/dates';
import { money, isNegative, isPositiveAmount } from '../../lib/decimal';
import { useLoad } from '../../lib/hooks';

export function BalancePanel() {
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
