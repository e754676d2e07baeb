import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { ConnectionsPage } from './Connections';
import { mockApi } from '../test/mockApi';
import { renderInProject } from '../test/providers';

describe('a connection name', () => {
  it("follows the server's rule for names: spaces are fine, slashes are explained and never sent", async () => {
    const calls = mockApi({
      'GET /projects/{p}/connections': () => ({ body: { items: [] } }),
      'POST /projects/{p}/connections': (r) => ({
        status: 201,
        body: { id: 'c1', kind: 'kafka', properties: {}, secret_keys: [], created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z', ...(r.body as object) },
      }),
    });
    renderInProject(<ConnectionsPage />, { projectRole: 'admin' });
    fireEvent.click(await screen.findByRole('button', { name: 'New connection' }));
    const dialog = screen.getByRole('dialog');
    const name = within(dialog).getByLabelText('Name');
    const said = () => document.getElementById(name.getAttribute('aria-describedby') ?? '')?.textContent;
    // The rule, before anything is wrong.
    expect(dialog.textContent).toContain('spaces, dots and any letters are fine; / and \\ are not');

    fireEvent.change(name, { target: { value: 'kafka/prod' } });
    expect(said()).toBe('A name cannot contain / or \\.');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create connection' }));
    await waitFor(() => expect(name.getAttribute('aria-invalid')).toBe('true'));
    expect(calls.some((c) => c.method === 'POST')).toBe(false);

    fireEvent.change(name, { target: { value: 'x'.repeat(129) } });
    expect(said()).toBe('At most 128 characters; this is 129.');

    // A name the server takes, as for every other name: with a space in it.
    fireEvent.change(name, { target: { value: 'kafka prod' } });
    expect(name.getAttribute('aria-invalid')).toBe('false');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create connection' }));
    await waitFor(() => expect((calls.find((c) => c.method === 'POST')?.body as { name: string } | undefined)?.name).toBe('kafka prod'));
  });

  it('warns that a script cannot refer to a name with a closing brace', async () => {
    mockApi({ 'GET /projects/{p}/connections': () => ({ body: { items: [] } }) });
    renderInProject(<ConnectionsPage />, { projectRole: 'admin' });
    fireEvent.click(await screen.findByRole('button', { name: 'New connection' }));
    const dialog = screen.getByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'odd}name' } });
    expect(dialog.textContent).toContain('A script cannot refer to a name with a } in it');
  });
});
