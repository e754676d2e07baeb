import { describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { BillingPage } from './Billing';

// uPlot draws on a canvas jsdom does not have; the chart's data is not what is tested here.
vi.mock('../components/Chart', () => ({ Chart: ({ title }: { title: string }) => <div data-testid="chart">{title}</div> }));
import type { Schemas } from '../api/client';
import { mockApi } from '../test/mockApi';
import { renderInProject } from '../test/providers';

function server({
  topUps = true,
  usage = ['0.1', '0.2'],
  feeRule = 'hours_with_usage',
  subscriptions = [],
}: { topUps?: boolean; usage?: string[]; feeRule?: string; subscriptions?: Schemas['Subscription'][] } = {}) {
  return mockApi({
    'GET /account/balance': () => ({
      body: { balance: '730.39', currency: 'CNY', unpaid_bills: 1, unpaid_total: '18.00', arrears_since: '2026-11-20T00:00:00Z', top_ups_allowed: topUps },
    }),
    'GET /account/billing': () => ({ body: { billing_time_zone: 'Asia/Shanghai', currency: 'CNY', granularity: 'minute', cu_hour_price: '0.09', management_fee: feeRule } }),
    'GET /projects': () => ({ body: { items: [{ id: 'p1', name: 'analytics', description: '', created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z' }] } }),
    'GET /account/billing/usage': () => ({
      body: [
        { bucket_start: '2026-12-01T00:00:00+08:00', project_id: 'p1', project_name: 'analytics', deployment_id: 'd1', deployment_name: 'sessionize', cu_hours: usage[0] },
        { bucket_start: '2026-12-02T00:00:00+08:00', project_id: 'p1', project_name: 'analytics', deployment_id: 'd1', deployment_name: 'sessionize', cu_hours: usage[1] },
      ],
    }),
    'GET /account/billing/hours': () => ({
      body: {
        currency: 'CNY',
        total: '0.21',
        items: [
          { project_id: 'p1', window_start: '2026-12-01T00:00:00Z', window_end: '2026-12-01T01:00:00Z', cu_hours: '0.3333333333', compute: '0.03', management: '0.18', total: '0.21', currency: 'CNY' },
        ],
      },
    }),
    'POST /account/orders/preview': (r) => ({
      body: { ...(r.body as object), cu: 4, months: 1, term_start: '2026-12-01T00:00:00Z', term_end: '2027-01-01T00:00:00Z', amount: '200.00', currency: 'CNY' },
    }),
    'GET /account/subscriptions': () => ({ body: subscriptions }),
    'PUT /account/subscriptions/{p}/auto-renew': (r) => ({ body: { project_id: 'p1', ...(r.body as object) } }),
    'GET /account/orders': () => ({
      body: {
        items: [
          { id: 'o1', kind: 'temporary_upgrade', project_id: 'p1', cu: 2, months: 0, amount: '12.50', currency: 'CNY',
            window_start: '2026-12-05T00:00:00Z', window_end: '2026-12-06T00:00:00Z', created_by: 'u1', created_at: '2026-12-01T00:00:00Z' },
        ],
      },
    }),
    'POST /account/balance/top-ups': () => ({ status: 403, body: { error: { code: 'forbidden', message: 'top-ups through the API are disabled on this server' } } }),
  });
}

describe('the billing page', () => {
  it('shows amounts as the API gives them and sums CU-hours exactly', async () => {
    server();
    renderInProject(<BillingPage />, { path: '/billing', pattern: '/billing' });
    expect((await screen.findByTestId('balance')).textContent).toBe('730.39 CNY');
    expect(screen.getByTestId('arrears').textContent).toContain('18.00 CNY');
    // 0.1 + 0.2 is 0.3 here, not 0.30000000000000004.
    await waitFor(() => expect(screen.getByTestId('usage-total').textContent).toBe('0.30'));
    const row = within(screen.getByTestId('usage')).getByText('d1').closest('tr')!;
    await waitFor(() => expect(row.textContent).toContain('sessionize'));
    expect(row.querySelectorAll('td')[2]!.textContent).toBe('0.30');
  });

  it('prices an order before it can be placed, and shows a refused top-up in words', async () => {
    const calls = server();
    renderInProject(<BillingPage />, { path: '/billing?tab=subscriptions', pattern: '/billing' });
    await screen.findByText(/No subscriptions/);
    const place = screen.getByRole('button', { name: 'Place order' }) as HTMLButtonElement;
    expect(place.disabled).toBe(true);
    await screen.findByRole('option', { name: 'analytics' });
    fireEvent.change(screen.getByLabelText('CU'), { target: { value: '4' } });
    fireEvent.click(screen.getByRole('button', { name: 'Preview price' }));
    expect((await screen.findByTestId('order-quote')).textContent).toContain('200.00 CNY paid from the balance');
    expect(place.disabled).toBe(false);
    expect(calls.find((c) => c.path === '/account/orders/preview')!.body).toEqual({ kind: 'new_purchase', project_id: 'p1', cu: 4, months: 1 });
    // Changing the order makes the price stale.
    fireEvent.change(screen.getByLabelText('CU'), { target: { value: '5' } });
    expect(place.disabled).toBe(true);
    // Past orders, as recorded.
    const past = within(await screen.findByTestId('orders')).getByText('analytics').closest('tr')!;
    expect(past.textContent).toContain('12.50 CNY');
    expect(past.querySelectorAll('td')[3]!.textContent).toBe('2');

    fireEvent.change(screen.getByLabelText('Top up (CNY)'), { target: { value: '100.00' } });
    fireEvent.click(screen.getByRole('button', { name: 'Top up' }));
    expect(await screen.findByText('top-ups through the API are disabled on this server')).toBeTruthy();
  });

  it('turns a term’s automatic renewal on, and orders a renewal with a CU change', async () => {
    const sub: Schemas['Subscription'] = {
      project_id: 'p1',
      cu: 4,
      term_start: '2026-12-01T00:00:00Z',
      term_end: '2027-01-01T00:00:00Z',
      auto_renew: false,
      renewal_months: 2,
      temporary_cu: 0,
      cu_in_use: 1,
      temporary_upgrades: [],
    };
    const calls = server({ subscriptions: [sub] });
    renderInProject(<BillingPage />, { path: '/billing?tab=subscriptions', pattern: '/billing' });
    const auto = await screen.findByTestId('auto-renew');
    expect(auto.textContent).toContain('No');
    fireEvent.click(within(auto).getByRole('button', { name: 'Turn on' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(calls.find((c) => c.method === 'PUT')).toMatchObject({ path: '/account/subscriptions/p1/auto-renew', body: { enabled: true, months: 2 } });

    fireEvent.change(screen.getByLabelText('Order'), { target: { value: 'renew_change' } });
    fireEvent.change(screen.getByLabelText('New total CU'), { target: { value: '6' } });
    fireEvent.change(screen.getByLabelText('Months'), { target: { value: '3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Preview price' }));
    await screen.findByTestId('order-quote');
    expect(calls.find((c) => c.path === '/account/orders/preview')!.body).toEqual({ kind: 'renew_change', project_id: 'p1', cu: 6, months: 3 });
  });

  it('shows CU-hours to two decimals, the exact figure on hover', async () => {
    server({ usage: ['0.3333333333', '0.0000277778'] });
    const { unmount } = renderInProject(<BillingPage />, { path: '/billing', pattern: '/billing' });
    const total = await screen.findByTestId('usage-total');
    await waitFor(() => expect(total.textContent).toBe('0.33'));
    expect(total.querySelector('[title]')!.getAttribute('title')).toBe('0.3333611111 CU-hours exactly');
    unmount();

    server();
    renderInProject(<BillingPage />, { path: '/billing?tab=hours', pattern: '/billing' });
    const hour = (await within(await screen.findByTestId('hours')).findByText('0.33')).closest('td')!;
    expect(hour.querySelector('[title]')!.getAttribute('title')).toBe('0.3333333333 CU-hours exactly');
    // The fee is said in words where it is charged.
    await waitFor(() =>
      expect(screen.getByTestId('management-fee-hours').textContent).toMatch(/fixed 2 CU × the CU-hour price for each hour in which a pay-as-you-go project runs anything/),
    );
  });

  it('explains the management fee with the price, and offers no top-up where the server takes none', async () => {
    const calls = server({ topUps: false });
    renderInProject(<BillingPage />, { path: '/billing', pattern: '/billing' });
    expect((await screen.findByTestId('management-fee')).textContent).toContain(
      'Management fee: a fixed 0.18 CNY (2 CU × the CU-hour price) for each hour in which a pay-as-you-go project runs anything',
    );
    expect(screen.getByTestId('management-fee').textContent).toContain('An hour in which nothing runs costs nothing.');
    expect((await screen.findByTestId('no-top-ups')).textContent).toContain('the platform’s operators credit balances');
    expect(screen.queryByRole('button', { name: 'Top up' })).toBeNull();
    expect(screen.queryByLabelText(/Top up/)).toBeNull();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
  });

  it('says the fee is charged every hour where the server charges it so', async () => {
    server({ feeRule: 'every_hour' });
    renderInProject(<BillingPage />, { path: '/billing', pattern: '/billing' });
    const fee = (await screen.findByTestId('management-fee')).textContent;
    expect(fee).toContain('Management fee: a fixed 0.18 CNY (2 CU × the CU-hour price) for each hour of a pay-as-you-go project, whether anything runs or not');
    expect(fee).not.toContain('costs nothing');
  });

  it('says in words what is wrong with an amount instead of greying the button', async () => {
    const calls = server();
    renderInProject(<BillingPage />, { path: '/billing', pattern: '/billing' });
    const input = await screen.findByLabelText('Top up (CNY)');
    const button = screen.getByRole('button', { name: 'Top up' }) as HTMLButtonElement;
    const said = () => document.getElementById(input.getAttribute('aria-describedby') ?? '')?.textContent;
    // Nothing typed: no complaint until someone tries.
    expect(button.disabled).toBe(false);
    expect(input.getAttribute('aria-invalid')).toBe('false');
    fireEvent.click(button);
    await waitFor(() => expect(said()).toBe('Enter the amount of CNY to add, e.g. 100.00.'));

    fireEvent.change(input, { target: { value: '1,000' } });
    expect(said()).toBe('Write the amount in digits with a point before the decimals, e.g. 100.00: no commas, spaces or currency sign.');
    expect(button.disabled).toBe(false);
    fireEvent.change(input, { target: { value: '10.005' } });
    expect(said()).toBe('At most 2 decimals: CNY has no smaller unit.');
    fireEvent.change(input, { target: { value: '0.00' } });
    expect(said()).toBe('Enter an amount above 0.');
    fireEvent.change(input, { target: { value: '-5' } });
    expect(said()).toBe('A top-up adds to the balance: enter an amount above 0.');
    fireEvent.click(button);
    expect(calls.some((c) => c.path === '/account/balance/top-ups')).toBe(false);

    fireEvent.change(input, { target: { value: '100.5' } });
    expect(input.getAttribute('aria-invalid')).toBe('false');
    fireEvent.click(button);
    await waitFor(() => expect(calls.find((c) => c.path === '/account/balance/top-ups')?.body).toEqual({ amount: '100.5' }));
  });

  it('tells roles without billing access who has it', async () => {
    mockApi({ 'GET /projects': () => ({ body: { items: [] } }) });
    renderInProject(<BillingPage />, { path: '/billing', pattern: '/billing', accountRole: 'admin' });
    expect(await screen.findByText(/owners and billing managers/)).toBeTruthy();
  });
});
