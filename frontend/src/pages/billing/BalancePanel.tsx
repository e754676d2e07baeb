// The account's balance, its arrears if any, the pay-as-you-go price with the management
// fee in words, and topping up where this server takes top-ups through the API.
import { useState } from 'react';
import { api, call } from '../../api/client';
import { accountStatusChanged } from '../../components/AccountStatus';
import { toast } from '../../components/toast';
import { ErrorNote, Field, fieldError, formError } from '../../components/ui';
import { formatTime } from '../../lib/dates';
import { addDecimal, compareDecimal, money, isNegative } from '../../lib/decimal';
import { useLoad } from '../../lib/hooks';
import { managementFeeWords } from './words';

/** The most one top-up may be, in minor units (the API's own bound). */
const MAX_TOP_UP_MINOR = 1_000_000_000_000n;

/**
 * What is wrong with `text` as a top-up of `currency` with `decimals` decimals, in
 * words; nothing when the API would take it.
 */
export function topUpProblem(text: string, currency: string, decimals: number): string | undefined {
  const t = text.trim();
  const example = decimals > 0 ? `100.${'0'.repeat(decimals)}` : '100';
  if (t === '') return `Enter the amount of ${currency} to add, e.g. ${example}.`;
  if (t.startsWith('-')) return 'A top-up adds to the balance: enter an amount above 0.';
  if (!/^\d+(\.\d+)?$/.test(t)) return `Write the amount in digits${decimals > 0 ? ' with a point before the decimals' : ''}, e.g. ${example}: no commas, spaces or currency sign.`;
  const fraction = t.split('.')[1] ?? '';
  if (fraction.length > decimals) {
    return decimals > 0 ? `At most ${decimals} decimals: ${currency} has no smaller unit.` : `Whole ${currency} only: it has no smaller unit.`;
  }
  if (compareDecimal(t, '0') <= 0) return 'Enter an amount above 0.';
  const max = MAX_TOP_UP_MINOR.toString();
  const maxText = decimals > 0 ? `${max.slice(0, max.length - decimals)}.${max.slice(max.length - decimals)}` : max;
  if (compareDecimal(t, maxText) > 0) return `At most ${money(maxText, currency)} at a time.`;
  return undefined;
}

/** Decimals of the currency, as the API writes its amounts ("730.39": 2). */
const decimalsOf = (amount: string) => amount.split('.')[1]?.length ?? 0;

export function BalancePanel() {
  const balance = useLoad(() => call(api.GET('/account/balance')), []);
  const settings = useLoad(() => call(api.GET('/account/billing')), []);
  const [amount, setAmount] = useState('');
  // An empty field is only a mistake once someone tries to top up with it.
  const [tried, setTried] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const b = balance.data;
  const problem = b ? topUpProblem(amount, b.currency, decimalsOf(b.balance)) : undefined;
  const shownProblem = amount.trim() !== '' || tried ? problem : undefined;
  const topUp = async () => {
    setTried(true);
    setError(undefined);
    if (problem) return;
    setBusy(true);
    try {
      const nb = await call(api.POST('/account/balance/top-ups', { body: { amount: amount.trim() } }));
      balance.set(nb);
      setAmount('');
      setTried(false);
      toast(`Balance topped up: now ${money(nb.balance, nb.currency)}`);
      accountStatusChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const price = settings.data;
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
        {price && (
          <div className="item" data-testid="payg-price">
            <div className="muted small">Pay-as-you-go price</div>
            <div className="n">{money(price.cu_hour_price, price.currency)} / CU-hour</div>
            <div className="muted small fee-words" data-testid="management-fee">
              {managementFeeWords(price.management_fee, money(addDecimal(price.cu_hour_price, price.cu_hour_price), price.currency))} Hours are cut in{' '}
              {price.billing_time_zone}.
            </div>
          </div>
        )}
        {b && !b.top_ups_allowed && (
          <div className="item" data-testid="no-top-ups">
            <div className="muted small">Topping up</div>
            <div className="small">
              This server takes no top-ups through the console: the platform’s operators credit balances. Ask them to add to this account’s.
            </div>
          </div>
        )}
        {b?.top_ups_allowed && (
          <form
            className="item topup"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              void topUp();
            }}
          >
            <Field label={`Top up (${b.currency})`} error={shownProblem ?? fieldError(error, 'amount')} hint="Pays unpaid bills first, oldest first; clears arrears.">
              {(p) => (
                <div className="row">
                  <input {...p} inputMode="decimal" placeholder="100.00" value={amount} onChange={(e) => setAmount(e.target.value)} style={{ width: 110 }} />
                  <button className="primary" disabled={busy}>
                    {busy ? 'Working…' : 'Top up'}
                  </button>
                </div>
              )}
            </Field>
            <ErrorNote error={formError(error, ['amount'])} />
          </form>
        )}
      </div>
    </>
  );
}
