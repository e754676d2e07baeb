// The New connection dialog is a form: Enter in a field creates the connection, and its
// own buttons (+ Property, remove a row) do not send it.
import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
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
