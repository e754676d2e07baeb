import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import { AuditPage } from './Audit';
import { mockApi } from '../test/mockApi';
import { renderInProject } from '../test/providers';

const PROJECT = '01937a4e-0000-7000-8000-00000000p001';
const ANN = '01937a4e-0000-7000-8000-0000000u0001';
const BOB = '01937a4e-0000-7000-8000-0000000u0002';
const GONE = '01937a4e-0000-7000-8000-0000000u0009';

function entry(id: string, actor: string, path: string, action: string) {
  return {
    id, actor_user_id: actor, actor_credential: 'session:s1', action, method: 'PATCH', path, project_id: PROJECT,
    outcome: 'success', status: 200, request_id: 'req-' + id, created_at: '2026-12-05T10:00:00Z',
  };
}

describe('the audit log', () => {
  it('names the people and projects it can, in the path too, with their ids on hover', async () => {
    mockApi({
      'GET /account/members': () => ({
        body: {
          items: [
            { user_id: ANN, display_name: 'Ann', email: 'ann@example.com', role: 'owner', joined_at: '2026-12-01T00:00:00Z' },
            { user_id: BOB, display_name: '', email: 'bob@example.com', role: 'member', joined_at: '2026-12-01T00:00:00Z' },
          ],
        },
      }),
      'GET /projects': () => ({ body: { items: [{ id: PROJECT, name: 'analytics', description: '', created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z' }] } }),
      'GET /account/audit': () => ({
        body: {
          items: [
            entry('e1', ANN, `/api/v1/projects/${PROJECT}/members/${BOB}`, 'change_project_member_role'),
            entry('e2', GONE, `/api/v1/projects/${PROJECT}/members/${GONE}`, 'remove_project_member'),
          ],
        },
      }),
    });
    renderInProject(<AuditPage />, { path: '/audit', pattern: '/audit' });
    const table = await screen.findByTestId('audit');
    const first = (await within(table).findByText('change_project_member_role')).closest('tr')!;
    const who = await within(first).findByRole('button', { name: 'Ann' });
    expect(who.getAttribute('title')).toContain(ANN);
    // The path names the project and the person it changed; their ids are a hover away.
    const path = within(first).getByTestId('audit-path');
    expect(path.textContent).toBe('PATCH /api/v1/projects/analytics/members/bob@example.com');
    expect(within(path).getByText('analytics').getAttribute('title')).toBe(`project id ${PROJECT}`);
    expect(within(path).getByText('bob@example.com').getAttribute('title')).toBe(`user id ${BOB}`);
    expect(within(first).getByRole('link', { name: 'analytics' }).getAttribute('title')).toBe(`Project id ${PROJECT}`);

    // Someone no longer in the account stays as recorded.
    const second = within(table).getByText('remove_project_member').closest('tr')!;
    expect(within(second).getByTestId('audit-path').textContent).toBe(`PATCH /api/v1/projects/analytics/members/${GONE}`);
    expect(within(second).getByRole('button', { name: GONE })).toBeTruthy();
  });
});
