// Billing: the balance (and arrears), what ran (usage by day and deployment), what it
// cost hour by hour, the monthly bills with their lines and CSV, subscriptions and
// orders priced before they are placed, and every movement of the balance.
//
// Money is the API's decimal text, shown as given; sums the console makes itself use
// exact decimal arithmetic (lib/decimal), never floats. Charts plot CU-hours only.
import { useSearchParams } from 'react-router';
import { canReadBilling } from '../components/AccountStatus';
import { api, call } from '../api/client';
import { useLoad } from '../lib/hooks';
import { useSession } from '../session';
import { BalancePanel } from './billing/BalancePanel';
import { BillsTab } from './billing/BillsTab';
import { HoursTab } from './billing/HoursTab';
import { useProjects } from './billing/projects';
import { SubscriptionsTab } from './billing/SubscriptionsTab';
import { TransactionsTab } from './billing/TransactionsTab';
import { UsageTab } from './billing/UsageTab';

const TABS = [
  { key: 'usage', label: 'Usage' },
  { key: 'hours', label: 'Hourly charges' },
  { key: 'bills', label: 'Bills' },
  { key: 'subscriptions', label: 'Subscriptions & orders' },
  { key: 'transactions', label: 'Transactions' },
] as const;
type Tab = (typeof TABS)[number]['key'];

export function BillingPage() {
  const { account } = useSession();
  const [search, setSearch] = useSearchParams();
  const tab = (TABS.find((t) => t.key === search.get('tab'))?.key ?? 'usage') as Tab;
  const projects = useProjects();
  // When the management fee is charged, for the words that explain it.
  const settings = useLoad(() => (canReadBilling(account.role) ? call(api.GET('/account/billing')) : Promise.resolve(undefined)), []);
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
        {tab === 'hours' && <HoursTab projects={projects.projects} projectName={projects.name} feeRule={settings.data?.management_fee} />}
        {tab === 'bills' && <BillsTab projectName={projects.name} feeRule={settings.data?.management_fee} />}
        {tab === 'subscriptions' && <SubscriptionsTab projects={projects.projects} projectName={projects.name} />}
        {tab === 'transactions' && <TransactionsTab />}
      </div>
    </div>
  );
}
