// The New connection dialog is a form: Enter in a field creates the connection, and its
// own buttons (+ Property, remove a row) do not send it. Its name follows the server's
// rule for every name.
import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ConnectionsPage } from './Connections';
import { mockApi } from '../test/mockApi';
import { renderInProject } from '../test/providers';

const at = '2026-12-01T00:00:00Z';

describe('the New connection dialog', () => {
  it('creates the connection on Enter; adding and removing rows sends nothing', async () => {
    const calls = mockApi({
      'GET /projects/{p}/connections': () => ({ body: { items: [], next_cursor: null } }),
      'POST /projects/{p}/connections': (r) => ({
        status: 201,
        body: { id: 'c1', project_id: 'p1', ...(r.body as object), secret_keys: [], created_at: at, updated_at: at },
      }),
    });
    const user = userEvent.setup({ delay: null });
    renderInProject(<ConnectionsPage />, { path: '/projects/p1/connections', pattern: '/projects/:projectId/connections' });
    await user.click(await screen.findByRole('button', { name: 'New connection' }));
    const dialog = screen.getByRole('dialog', { name: 'New connection' });
    expect(document.activeElement).toBe(within(dialog).getByLabelText('Name'));
    await user.keyboard('events');
    await user.click(within(dialog).getByRole('button', { name: '+ Property' }));
    await user.click(within(dialog).getByRole('button', { name: 'Remove property' }));
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);

    await user.type(within(dialog).getByLabelText('properties.bootstrap.servers value'), 'kafka:9092{Enter}');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.filter((c) => c.method === 'POST').map((c) => [c.path, c.body])).toEqual([
      ['/projects/p1/connections', { name: 'events', kind: 'kafka', properties: { 'properties.bootstrap.servers': 'kafka:9092' }, secret_properties: {} }],
    ]);
  });
});

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
