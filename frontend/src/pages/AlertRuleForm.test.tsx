import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { AlertRuleDialog, describeRule } from './AlertRuleForm';
import { mockApi } from '../test/mockApi';
import { renderInProject } from '../test/providers';
import type { Schemas } from '../api/client';

const groups: Schemas['ContactGroup'][] = [
  { id: 'g1', name: 'on-call', emails: ['ops@example.com'], channel_ids: [], created_at: '2026-12-01T00:00:00Z' },
];
const deployments = [{ id: 'd1', name: 'sessionize' }] as Schemas['Deployment'][];

function renderForm(onCreated: (r: Schemas['AlertRule']) => void = () => {}) {
  return renderInProject(<AlertRuleDialog projectId="p1" groups={groups} deployments={deployments} onClose={() => {}} onCreated={onCreated} />);
}

describe('the alert rule form', () => {
  it('shows the threshold and window each condition reads, in its unit', async () => {
    mockApi({});
    renderForm();
    const condition = await screen.findByLabelText('Condition');
    // job_failed reads neither.
    expect(screen.queryByLabelText(/Window/)).toBeNull();
    expect(screen.queryByLabelText(/More than|Below|At least|Over/)).toBeNull();
    expect(screen.getByText(/FAILED, or RESTARTING/)).toBeTruthy();

    fireEvent.change(condition, { target: { value: 'restarts' } });
    expect(screen.getByLabelText('More than (restarts)')).toBeTruthy();
    expect((screen.getByLabelText('Window (seconds)') as HTMLInputElement).placeholder).toBe('600');

    fireEvent.change(condition, { target: { value: 'state_mismatch' } });
    expect(screen.queryByLabelText('More than (restarts)')).toBeNull();
    expect((screen.getByLabelText('Window (seconds)') as HTMLInputElement).placeholder).toBe('300');

    fireEvent.change(condition, { target: { value: 'backpressure_high' } });
    const pct = screen.getByLabelText('At least (% of time)') as HTMLInputElement;
    expect(pct.max).toBe('100');
    expect(pct.placeholder).toBe('50');

    fireEvent.change(condition, { target: { value: 'lag_high' } });
    expect(screen.getByLabelText('Over (milliseconds)')).toBeTruthy();
    expect(screen.getByText(/needs a connector that reports lag/i)).toBeTruthy();

    fireEvent.change(condition, { target: { value: 'input_stopped' } });
    expect(screen.getByLabelText('Below (records/s)')).toBeTruthy();

    fireEvent.change(condition, { target: { value: 'no_checkpoint' } });
    expect(screen.queryByLabelText(/Below|At least|Over|More than/)).toBeNull();
    fireEvent.change(screen.getByLabelText('Window (seconds)'), { target: { value: '900' } });
    expect(screen.getByText(/now 15 min/)).toBeTruthy();
  });

  it('sends what the condition reads and shows an API field error next to its field', async () => {
    const calls = mockApi({
      'POST /projects/{p}/alert-rules': () => ({
        status: 422,
        body: { error: { code: 'invalid_field', message: 'threshold must be from 1 to 100, got 150', field: 'threshold' } },
      }),
    });
    renderForm();
    fireEvent.change(await screen.findByLabelText('Name'), { target: { value: 'bp' } });
    fireEvent.change(screen.getByLabelText('Condition'), { target: { value: 'backpressure_high' } });
    fireEvent.change(screen.getByLabelText('At least (% of time)'), { target: { value: '150' } });
    fireEvent.change(screen.getByLabelText('Severity'), { target: { value: 'P0' } });
    fireEvent.change(screen.getByLabelText('Deployment'), { target: { value: 'd1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create rule' }));

    const input = screen.getByLabelText('At least (% of time)');
    await waitFor(() => expect(input.getAttribute('aria-invalid')).toBe('true'));
    const err = document.getElementById(input.getAttribute('aria-describedby')!)!;
    expect(err.textContent).toBe('threshold must be from 1 to 100, got 150');
    expect(err.closest('.field')!.querySelector('label')!.textContent).toBe('At least (% of time)');
    // Once, beside the field, not again at the bottom of the form.
    expect(screen.getAllByText(/got 150/)).toHaveLength(1);

    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.path).toBe('/projects/p1/alert-rules');
    // The window left empty is sent as the condition's default.
    expect(post.body).toEqual({
      name: 'bp',
      condition: 'backpressure_high',
      severity: 'P0',
      contact_group_id: 'g1',
      deployment_id: 'd1',
      repeat_secs: 0,
      threshold: 150,
      window_secs: 300,
    });
  });

  it('sends no threshold or window for job_failed', async () => {
    let created: Schemas['AlertRule'] | undefined;
    const calls = mockApi({
      'POST /projects/{p}/alert-rules': (r) => ({
        status: 201,
        body: { id: 'r1', ...(r.body as object), threshold: 0, window_secs: 0, enabled: true, created_at: '2026-12-01T00:00:00Z' },
      }),
    });
    renderForm((r) => (created = r));
    fireEvent.change(await screen.findByLabelText('Name'), { target: { value: 'failed' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create rule' }));
    await waitFor(() => expect(created?.id).toBe('r1'));
    const body = calls.find((c) => c.method === 'POST')!.body as Record<string, unknown>;
    expect(body).not.toHaveProperty('threshold');
    expect(body).not.toHaveProperty('window_secs');
    expect(body.deployment_id).toBeNull();
  });

  it('edits a rule: its condition and deployment fixed, the rest sent as a change', async () => {
    const rule: Schemas['AlertRule'] = {
      id: 'r9', name: 'flapping', deployment_id: 'd1', condition: 'restarts', threshold: 3, window_secs: 600,
      severity: 'P2', contact_group_id: 'g1', repeat_secs: 0, enabled: true, created_at: '2026-12-01T00:00:00Z',
    };
    let changed = false;
    const calls = mockApi({ 'PATCH /projects/{p}/alert-rules/{r}': () => ({ status: 204 }) });
    renderInProject(
      <AlertRuleDialog projectId="p1" groups={groups} deployments={deployments} editing={rule} onClose={() => {}} onCreated={() => {}} onChanged={() => (changed = true)} />,
    );
    expect((await screen.findByLabelText('Condition') as HTMLSelectElement).disabled).toBe(true);
    expect((screen.getByLabelText('Deployment') as HTMLSelectElement).disabled).toBe(true);
    const more = screen.getByLabelText('More than (restarts)') as HTMLInputElement;
    expect(more.value).toBe('3');
    fireEvent.change(more, { target: { value: '5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save rule' }));
    await waitFor(() => expect(changed).toBe(true));
    const patch = calls.find((c) => c.method === 'PATCH')!;
    expect(patch.path).toBe('/projects/p1/alert-rules/r9');
    expect(patch.body).toEqual({ name: 'flapping', severity: 'P2', contact_group_id: 'g1', repeat_secs: 0, threshold: 5, window_secs: 600 });
  });

  it('describes a rule in one line', () => {
    expect(describeRule({ condition: 'restarts', threshold: 3, window_secs: 600 })).toBe('Restarts: more than 3 restarts within 10 min');
    expect(describeRule({ condition: 'job_failed', threshold: 0, window_secs: 0 })).toBe('Job failed');
    // One of a thing is singular.
    expect(describeRule({ condition: 'restarts', threshold: 1, window_secs: 600 })).toBe('Restarts: more than 1 restart within 10 min');
    expect(describeRule({ condition: 'checkpoint_failures', threshold: 1, window_secs: 600 })).toBe('Checkpoint failures: more than 1 checkpoint within 10 min');
    expect(describeRule({ condition: 'input_stopped', threshold: 1, window_secs: 300 })).toBe('Input stopped: below 1 record/s for 5 min');
  });

  it('says where contact groups are made when the project has none, instead of a dead end', async () => {
    mockApi({});
    const { unmount } = renderInProject(<AlertRuleDialog projectId="p1" groups={[]} deployments={deployments} onClose={() => {}} onCreated={() => {}} />, {
      projectRole: 'admin',
    });
    const hint = await screen.findByTestId('no-contact-groups');
    expect(hint.textContent).toContain('A rule tells a contact group, and this project has none yet.');
    // An admin is taken to the group form itself.
    expect(within(hint).getByRole('link', { name: 'Create a contact group' }).getAttribute('href')).toBe('/projects/p1/alerts?tab=groups&new=group');
    unmount();

    // An editor can make rules but not groups: told who can, and where.
    renderInProject(<AlertRuleDialog projectId="p1" groups={[]} deployments={deployments} onClose={() => {}} onCreated={() => {}} />, { projectRole: 'editor' });
    const told = await screen.findByTestId('no-contact-groups');
    expect(told.textContent).toContain('Project admins make them');
    expect(within(told).getByRole('link', { name: 'Contact groups' }).getAttribute('href')).toBe('/projects/p1/alerts?tab=groups');
  });
});
