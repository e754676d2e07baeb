import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SessionProvider, useSession } from './session';
import { LIMITS } from './test/providers';
import { mockApi } from './test/mockApi';

const me = {
  user_id: 'u1',
  email: 'ann@example.com',
  display_name: 'Ann',
  account_id: 'a1',
  accounts: [{ id: 'a1', name: 'Acme', role: 'owner' }],
};
const account = {
  id: 'a1',
  name: 'Acme',
  plan: 'standard',
  limits: LIMITS,
  usage: { projects: 1 },
  role: 'owner',
  created_at: '2026-12-01T00:00:00Z',
};

function SignOutButton() {
  const { signOut } = useSession();
  return <button onClick={() => void signOut()}>Sign out</button>;
}

/** Where the browser was sent: location.assign is replaced, jsdom does not navigate. */
function watchNavigation() {
  const assign = vi.fn();
  vi.stubGlobal('location', { ...window.location, assign });
  return assign;
}

afterEach(() => vi.unstubAllGlobals());

describe('signing out', () => {
  it("goes on to the identity provider's end-session URL when the server gives one", async () => {
    const endSession =
      'http://idp.example/session/end?id_token_hint=t&client_id=sluice&post_logout_redirect_uri=http%3A%2F%2Fsluice.example%2F&state=s';
    const calls = mockApi({
      'GET /me': () => ({ body: me }),
      'GET /account': () => ({ body: account }),
      'POST /auth/logout': () => ({ body: { end_session_url: endSession } }),
    });
    const assign = watchNavigation();
    render(
      <SessionProvider signedOut={<p>Signed out</p>}>
        <SignOutButton />
      </SessionProvider>,
    );
    await userEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(endSession));
    expect(calls.some((c) => c.method === 'POST' && c.path === '/auth/logout')).toBe(true);
  });

  it('goes to the sign-in page when the provider has nothing to end', async () => {
    mockApi({
      'GET /me': () => ({ body: me }),
      'GET /account': () => ({ body: account }),
      'POST /auth/logout': () => ({ body: { end_session_url: null } }),
    });
    const assign = watchNavigation();
    render(
      <SessionProvider signedOut={<p>Signed out</p>}>
        <SignOutButton />
      </SessionProvider>,
    );
    await userEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith('/'));
  });

  it('goes to the sign-in page when the sign-out request fails', async () => {
    mockApi({
      'GET /me': () => ({ body: me }),
      'GET /account': () => ({ body: account }),
      'POST /auth/logout': () => ({ status: 502, body: { error: { code: 'x', message: 'down' } } }),
    });
    const assign = watchNavigation();
    render(
      <SessionProvider signedOut={<p>Signed out</p>}>
        <SignOutButton />
      </SessionProvider>,
    );
    await userEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith('/'));
  });
});
