// The frame's navigation folds away behind a toggle; on a narrow screen it starts folded
// and opens over the page, closing on Escape (focus back on the toggle) or a page chosen.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { Layout, NARROW } from './Layout';
import { SessionContextProvider } from '../session';
import { mockApi } from '../test/mockApi';
import { LIMITS } from '../test/providers';
import type { Schemas } from '../api/client';

const me = { user_id: 'u1', email: 'ann@example.com', display_name: 'Ann', account_id: 'a1', accounts: [{ id: 'a1', name: 'Acme', role: 'member' }] } as Schemas['Me'];
const account = { id: 'a1', name: 'Acme', plan: 'standard', limits: LIMITS, usage: { projects: 1 }, role: 'member', created_at: '2026-12-01T00:00:00Z' } as Schemas['Account'];

/** A window as wide as `width`: matchMedia answers the navigation's breakpoint for it. */
function windowOf(width: number) {
  const max = Number(/max-width: (\d+)px/.exec(NARROW)![1]);
  vi.stubGlobal('matchMedia', (query: string) => ({
    matches: query === NARROW && width <= max,
    media: query,
    addEventListener: () => {},
    removeEventListener: () => {},
  }));
}

function renderFrame() {
  mockApi({ 'GET /notices': () => ({ body: { items: [], next_cursor: null } }) });
  const router = createMemoryRouter(
    [{ path: '/', element: <Layout />, children: [{ path: '*', element: <h1>A page</h1> }] }],
    { initialEntries: ['/projects'] },
  );
  return render(
    <SessionContextProvider value={{ me, account, reload: async () => {}, switchAccount: async () => {}, signOut: async () => {} }}>
      <RouterProvider router={router} />
    </SessionContextProvider>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('the navigation', () => {
  it('shows beside the page on a wide screen and folds away with its toggle', async () => {
    windowOf(1440);
    const user = userEvent.setup({ delay: null });
    renderFrame();
    const toggle = screen.getByRole('button', { name: 'Navigation' });
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(screen.getByRole('navigation', { name: 'Console' })).toBeTruthy();
    await user.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(screen.queryByRole('navigation', { name: 'Console' })).toBeNull();
    await user.click(toggle);
    expect(screen.getByRole('navigation', { name: 'Console' })).toBeTruthy();
  });

  it('starts folded on a narrow screen, opens over the page, closes on Escape and when a page is chosen', async () => {
    windowOf(768);
    const user = userEvent.setup({ delay: null });
    const { container } = renderFrame();
    const toggle = screen.getByRole('button', { name: 'Navigation' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(screen.queryByRole('navigation', { name: 'Console' })).toBeNull();

    await user.click(toggle);
    expect(container.querySelector('.body.narrow .sidenav')).toBeTruthy();
    await user.tab();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('navigation', { name: 'Console' })).toBeNull();
    expect(document.activeElement).toBe(toggle);

    await user.keyboard('{Enter}');
    await user.click(screen.getByRole('link', { name: 'Billing' }));
    expect(screen.queryByRole('navigation', { name: 'Console' })).toBeNull();
  });
});
