import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { ApiError } from '../api/client';
import { DataTable } from './DataTable';
import { Field, FormDialog, fieldError } from './ui';

interface Row {
  id: string;
  name: string;
  cu: number;
}

const columns = [
  { header: 'Name', cell: (r: Row) => r.name },
  { header: 'CU', num: true, className: (r: Row) => (r.cu > 4 ? 'big' : ''), cell: (r: Row) => r.cu },
  { cell: (r: Row) => <button>Delete {r.name}</button> },
];

describe('DataTable', () => {
  it('shows a header and one row per item, figures right-aligned', () => {
    render(<DataTable testId="t" columns={columns} rows={[{ id: 'a', name: 'orders', cu: 8 }]} rowKey={(r) => r.id} empty="None yet." />);
    const table = screen.getByTestId('t');
    expect([...table.querySelectorAll('th')].map((th) => [th.textContent, th.className])).toEqual([
      ['Name', ''],
      ['CU', 'num'],
      ['', ''],
    ]);
    const cells = table.querySelectorAll('tbody td');
    expect([...cells].map((td) => td.className)).toEqual(['', 'num big', '']);
    expect(cells[1]!.textContent).toBe('8');
    expect(within(table).queryByText('None yet.')).toBeNull();
    // In a box of its own, which scrolls when the table is wider than the page.
    expect(table.parentElement!.className).toBe('table-scroll');
  });

  it('says there are none across every column once loading is done, and shows the error and Load more', () => {
    const onMore = vi.fn();
    const { rerender } = render(
      <DataTable testId="t" columns={columns} rows={[]} rowKey={(r) => r.id} empty="None yet." loading more={{ hasMore: false, onMore }} />,
    );
    expect(screen.queryByText('None yet.')).toBeNull();
    rerender(
      <DataTable testId="t" columns={[columns[0], false, columns[2]]} rows={[]} rowKey={(r) => r.id} empty="None yet." error={new Error('the list failed')} more={{ hasMore: true, onMore }} />,
    );
    const empty = screen.getByText('None yet.');
    expect(empty.getAttribute('colspan')).toBe('2');
    expect(empty.className).toBe('empty');
    expect(screen.getByRole('alert').textContent).toBe('the list failed');
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(onMore).toHaveBeenCalledOnce();
  });
});

describe('FormDialog', () => {
  it('is busy while it sends, shows a field error by its field and another under the form', async () => {
    let fail: (e: unknown) => void = () => {};
    const onSubmit = vi.fn(() => new Promise<void>((_, reject) => (fail = reject)));
    render(
      <FormDialog title="New thing" onClose={() => {}} submitLabel="Create" busyLabel="Creating…" fields={['name']} onSubmit={onSubmit}>
        {(error) => <Field label="Name" error={fieldError(error, 'name')}>{(p) => <input {...p} />}</Field>}
      </FormDialog>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    const busy = (await screen.findByRole('button', { name: 'Creating…' })) as HTMLButtonElement;
    expect(busy.disabled).toBe(true);
    fail(new ApiError(422, { code: 'invalid', message: 'name is taken', field: 'name' }));
    expect((await screen.findByRole('alert')).textContent).toBe('name is taken');
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    expect((screen.getByRole('button', { name: 'Create' }) as HTMLButtonElement).disabled).toBe(false);
    // Sent again: the last error goes, and one tied to no field shows under the form.
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await screen.findByRole('button', { name: 'Creating…' });
    expect(screen.queryByRole('alert')).toBeNull();
    fail(new Error('the server is down'));
    expect((await screen.findByRole('alert')).textContent).toBe('the server is down');
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('false');
  });
});
