import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { ContactGroupsTab, parseEmails } from './ContactGroups';
import { mockApi } from '../test/mockApi';
import { renderInProject } from '../test/providers';
import type { Schemas } from '../api/client';

const groups: Schemas['ContactGroup'][] = [
  { id: 'g1', name: 'on-call', emails: ['ops@example.com', 'lead@example.com'], channel_ids: ['ch1'], created_at: '2026-12-01T00:00:00Z' },
];
const channels: Schemas['ChannelChoice'][] = [{ id: 'ch1', kind: 'dingtalk', name: 'ops robot' }];

function server() {
  return mockApi({
    'GET /projects/{p}/channel-choices': () => ({ body: channels }),
    'POST /projects/{p}/contact-groups/{g}/test': () => ({
      body: [
        { channel: 'email', destination: 'ops@example.com', delivered: true },
        { channel: 'email', destination: 'lead@example.com', delivered: false, error: '550 mailbox unavailable' },
        { channel: 'dingtalk', destination: 'ch1', delivered: false, error: 'errcode 310000: sign not match' },
      ],
    }),
  });
}

describe('the contact groups tab', () => {
  it('sends a test and shows, per destination, whether it arrived and why not', async () => {
    const calls = server();
    renderInProject(<ContactGroupsTab projectId="p1" groups={groups} reload={async () => {}} rulesUsing={() => 1} />, { projectRole: 'admin' });
    // The channel is named, not shown as an id.
    await screen.findByText('ops robot (dingtalk)');
    fireEvent.click(screen.getByRole('button', { name: 'Send test' }));
    const results = await screen.findByTestId('test-results');
    expect(calls.some((c) => c.method === 'POST' && c.path === '/projects/p1/contact-groups/g1/test')).toBe(true);
    expect(within(results).getByText('1 of 3 destinations received the test.')).toBeTruthy();
    const rows = within(results).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(3);
    expect(rows[0]!.textContent).toContain('ops@example.com');
    expect(rows[0]!.textContent).toContain('Delivered');
    expect(rows[1]!.textContent).toContain('lead@example.com');
    expect(rows[1]!.textContent).toContain('Not delivered: 550 mailbox unavailable');
    expect(rows[2]!.textContent).toContain('ops robot (dingtalk)');
    expect(rows[2]!.textContent).toContain('Not delivered: errcode 310000: sign not match');
  });

  it('shows a refused test in words, and hides the buttons from roles that cannot use them', async () => {
    mockApi({
      'GET /projects/{p}/channel-choices': () => ({ body: channels }),
      'POST /projects/{p}/contact-groups/{g}/test': () => ({ status: 403, body: { error: { code: 'forbidden', message: 'this needs the admin role in the project' } } }),
    });
    const { unmount } = renderInProject(<ContactGroupsTab projectId="p1" groups={groups} reload={async () => {}} rulesUsing={() => 0} />, { projectRole: 'admin' });
    fireEvent.click(await screen.findByRole('button', { name: 'Send test' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('this needs the admin role in the project'));
    unmount();

    mockApi({ 'GET /projects/{p}/channel-choices': () => ({ body: channels }) });
    renderInProject(<ContactGroupsTab projectId="p1" groups={groups} reload={async () => {}} rulesUsing={() => 0} />, { projectRole: 'editor', accountRole: 'member' });
    await screen.findByText('on-call');
    expect(screen.queryByRole('button', { name: 'Send test' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'New contact group' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    // The project's people see the account's channels by name, not their addresses.
    expect(await screen.findByText('ops robot (dingtalk)')).toBeTruthy();
  });

  it('edits a group: its name and destinations filled in, replaced as a whole', async () => {
    let reloaded = false;
    const calls = mockApi({
      'GET /projects/{p}/channel-choices': () => ({ body: channels }),
      'PUT /projects/{p}/contact-groups/{g}': (r) => ({ body: { id: 'g1', created_at: '2026-12-01T00:00:00Z', ...(r.body as object) } }),
    });
    renderInProject(
      <ContactGroupsTab projectId="p1" groups={groups} reload={async () => { reloaded = true; }} rulesUsing={() => 1} />,
      { projectRole: 'admin' },
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    const dialog = screen.getByRole('dialog');
    expect((within(dialog).getByLabelText('Name') as HTMLInputElement).value).toBe('on-call');
    expect((within(dialog).getByLabelText('Emails') as HTMLTextAreaElement).value).toBe('ops@example.com\nlead@example.com');
    expect((await within(dialog).findByLabelText(/ops robot/) as HTMLInputElement).checked).toBe(true);
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'night shift' } });
    fireEvent.click(within(dialog).getByLabelText(/ops robot/));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save group' }));
    await waitFor(() => expect(reloaded).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.path).toBe('/projects/p1/contact-groups/g1');
    expect(put.body).toEqual({ name: 'night shift', emails: ['ops@example.com', 'lead@example.com'], channel_ids: [] });
  });

  it('creates a group with the emails pasted and the channels picked, showing a field error in place', async () => {
    const calls = mockApi({
      'GET /projects/{p}/channel-choices': () => ({ body: channels }),
      'POST /projects/{p}/contact-groups': () => ({
        status: 422,
        body: { error: { code: 'invalid_field', message: 'emails must be an email address like name@example.com', field: 'emails' } },
      }),
    });
    renderInProject(<ContactGroupsTab projectId="p1" groups={[]} reload={async () => {}} rulesUsing={() => 0} />, { projectRole: 'admin' });
    fireEvent.click(await screen.findByRole('button', { name: 'New contact group' }));
    const dialog = screen.getByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'night' } });
    fireEvent.change(within(dialog).getByLabelText('Emails'), { target: { value: 'a@example.com, nope\nb@example.com' } });
    fireEvent.click(await within(dialog).findByLabelText(/ops robot/));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create group' }));
    const emails = within(dialog).getByLabelText('Emails');
    await waitFor(() => expect(emails.getAttribute('aria-invalid')).toBe('true'));
    expect(document.getElementById(emails.getAttribute('aria-describedby')!)!.textContent).toContain('email address like');
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ name: 'night', emails: ['a@example.com', 'nope', 'b@example.com'], channel_ids: ['ch1'] });
  });

  it('reads pasted addresses', () => {
    expect(parseEmails(' a@x.io;b@x.io\n\nc@x.io ')).toEqual(['a@x.io', 'b@x.io', 'c@x.io']);
  });

  it('opens the new group form when sent from a rule that had no group to tell', async () => {
    server();
    renderInProject(<ContactGroupsTab projectId="p1" groups={[]} reload={async () => {}} rulesUsing={() => 0} />, {
      projectRole: 'admin',
      path: '/projects/p1/x?tab=groups&new=group',
    });
    expect(await screen.findByRole('dialog', { name: 'New contact group' })).toBeTruthy();
  });

  it('counts the rules that send to a group in the right number', async () => {
    server();
    const { unmount } = renderInProject(<ContactGroupsTab projectId="p1" groups={groups} reload={async () => {}} rulesUsing={() => 1} />, { projectRole: 'admin' });
    expect((await screen.findByTestId('group-on-call')).textContent).toContain('1 rule sends to it');
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect((await screen.findByRole('dialog')).textContent).toContain('1 rule sends to this group: delete or change it first');
    unmount();

    server();
    renderInProject(<ContactGroupsTab projectId="p1" groups={groups} reload={async () => {}} rulesUsing={() => 2} />, { projectRole: 'admin' });
    expect((await screen.findByTestId('group-on-call')).textContent).toContain('2 rules send to it');
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect((await screen.findByRole('dialog')).textContent).toContain('2 rules send to this group: delete or change them first');
  });
});
