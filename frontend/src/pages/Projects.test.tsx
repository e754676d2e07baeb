// The New project dialog is a form: Enter in either field creates the project.
import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ProjectsPage } from './Projects';
import { mockApi } from '../test/mockApi';
import { renderInProject } from '../test/providers';

const created = { id: 'p9', name: 'orders', description: 'all of them', created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z' };

describe('the New project dialog', () => {
  it('creates the project on Enter, from the last field as from the first', async () => {
    const calls = mockApi({
      'GET /projects': () => ({ body: { items: [], next_cursor: null } }),
      'POST /projects': () => ({ status: 201, body: created }),
    });
    const user = userEvent.setup({ delay: null });
    renderInProject(<ProjectsPage />, { path: '/projects', pattern: '/projects' });
    await user.click(await screen.findByRole('button', { name: 'New project' }));
    const dialog = screen.getByRole('dialog', { name: 'New project' });
    // The dialog takes focus in its first field.
    expect(document.activeElement).toBe(within(dialog).getByLabelText('Name'));
    await user.keyboard('orders');
    await user.type(within(dialog).getByLabelText('Description'), 'all of them{Enter}');
    await waitFor(() =>
      expect(calls.filter((c) => c.method === 'POST').map((c) => [c.path, c.body])).toEqual([['/projects', { name: 'orders', description: 'all of them' }]]),
    );
  });
});
