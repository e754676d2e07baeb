// Account-wide signals in the frame: the unread notices count on the bell, and a banner
// while the account is in arrears. Pages that change either (marking a notice read, a
// top-up) call `accountStatusChanged()` so the frame looks again at once.
import { useEffect } from 'react';
import { Link, useLocation } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { useLoad, useVisiblePolling } from '../lib/hooks';
import { money } from '../lib/decimal';
import { formatNumericDate } from '../lib/dates';
import { useSession } from '../session';

let listeners: (() => unknown)[] = [];

export function accountStatusChanged(): void {
  listeners.forEach((l) => l());
}

/** `reload` must be stable (useLoad's is). */
function useStatusChanges(reload: () => unknown): void {
  useEffect(() => {
    listeners.push(reload);
    return () => {
      listeners = listeners.filter((l) => l !== reload);
    };
  }, [reload]);
}

/** Who may read the balance (README, Roles: billing managers and owners). */
export function canReadBilling(role: Schemas['AccountRole']): boolean {
  return role === 'owner' || role === 'billing_manager';
}

export function UnreadBadge() {
  const inbox = useLoad(() => call(api.GET('/notices')), []);
  useStatusChanges(inbox.reload);
  useVisiblePolling(() => void inbox.reload(), 60_000);
  const n = inbox.data?.unread ?? 0;
  if (n <= 0) return null;
  return (
    <span className="unread-badge" data-testid="unread-count" aria-label={`${n} unread`}>
      {n > 99 ? '99+' : n}
    </span>
  );
}

export function ArrearsBanner() {
  const { account } = useSession();
  const allowed = canReadBilling(account.role);
  const balance = useLoad(async () => (allowed ? call(api.GET('/account/balance')) : undefined), [allowed]);
  useStatusChanges(balance.reload);
  useVisiblePolling(() => void balance.reload(), 120_000, allowed);
  const onBilling = useLocation().pathname.startsWith('/billing');
  const b = balance.data;
  // The billing page says it itself, with what to do.
  if (!b?.arrears_since || onBilling) return null;
  return (
    <div className="arrears-banner" role="alert" data-testid="arrears-banner">
      <strong>Your account is in arrears</strong> since {formatNumericDate(b.arrears_since)}:{' '}
      {b.unpaid_bills} unpaid bill{b.unpaid_bills === 1 ? '' : 's'}, {money(b.unpaid_total, b.currency)}. Pay-as-you-go
      deployments were stopped with a savepoint and new starts are refused until a top-up pays it.{' '}
      <Link to="/billing">Pay now</Link>
    </div>
  );
}
