// The job tree from the keyboard: one tab stop, arrow keys between items, folders
// opened and closed with Right and Left, a job opened with Enter, and each item's menu
// reachable with Tab (or Shift+F10), its dialogs giving focus back when they close.
import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider, useLocation } from 'react-router';
import { FolderTree, type Folder, type Job } from './FolderTree';

const at = '2026-12-01T00:00:00Z';
const folder = (id: string, name: string, parent_id: string | null = null): Folder =>
  ({ id, project_id: 'p1', parent_id, name, created_at: at, updated_at: at }) as Folder;
const job = (id: string, name: string, folder_id: string | null = null): Job => ({
  id, project_id: 'p1', folder_id, name, content: { kind: 'sql', sql: '' }, revision: 1, last_version: 0, created_at: at, updated_at: at,
});

// ingest/ (orders), archive/ (old), and clicks at the root.
const FOLDERS = [folder('f1', 'ingest'), folder('f2', 'archive')];
const JOBS = [job('j1', 'orders', 'f1'), job('j2', 'old', 'f2'), job('j3', 'clicks')];

function Where() {
  return <div data-testid="where">{useLocation().pathname}</div>;
}

function renderTree({ canWrite = true }: { canWrite?: boolean } = {}) {
  const tree = (
    <>
      <button>Before</button>
      <FolderTree projectId="p1" folders={FOLDERS} jobs={JOBS} canWrite={canWrite} onChanged={async () => {}} />
      <button>After</button>
      <Where />
    </>
  );
  const router = createMemoryRouter(
    [
      { path: '/projects/:projectId/jobs', element: tree },
      { path: '/projects/:projectId/jobs/:jobId', element: tree },
    ],
    { initialEntries: ['/projects/p1/jobs'] },
  );
  return render(<RouterProvider router={router} />);
}

const focused = () => document.activeElement as HTMLElement;
const item = (name: RegExp) => screen.getByRole('treeitem', { name });

describe('the job tree from the keyboard', () => {
  it('is one tab stop; arrow keys move between items and Home and End go to the ends', async () => {
    const user = userEvent.setup({ delay: null });
    renderTree({ canWrite: false });
    screen.getByRole('button', { name: 'Before' }).focus();
    await user.tab();
    // Folders first (by name), then the root's jobs.
    expect(focused()).toBe(item(/^archive$/));
    await user.tab();
    expect(focused()).toBe(screen.getByRole('button', { name: 'After' }));
    await user.tab({ shift: true });
    expect(focused()).toBe(item(/^archive$/));
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      await user.keyboard('{ArrowDown}');
      order.push(focused().getAttribute('aria-label')!);
    }
    expect(order).toEqual(['SQL old', 'ingest', 'SQL orders', 'SQL clicks']);
    await user.keyboard('{Home}');
    expect(focused()).toBe(item(/^archive$/));
    await user.keyboard('{End}');
    expect(focused()).toBe(item(/^SQL clicks$/));
    // The item last focused is the tab stop when Tab comes back.
    await user.tab();
    await user.tab({ shift: true });
    expect(focused()).toBe(item(/^SQL clicks$/));
  });

  it('closes and opens folders with Left and Right, Left from an item goes to its folder, Enter opens a job', async () => {
    const user = userEvent.setup({ delay: null });
    renderTree({ canWrite: false });
    item(/^ingest$/).focus();
    await user.keyboard('{ArrowLeft}');
    expect(item(/^ingest$/).getAttribute('aria-expanded')).toBe('false');
    expect(screen.queryByRole('treeitem', { name: /^SQL orders$/ })).toBeNull();
    await user.keyboard('{ArrowRight}');
    expect(item(/^ingest$/).getAttribute('aria-expanded')).toBe('true');
    // Right on an open folder: its first child.
    await user.keyboard('{ArrowRight}');
    expect(focused()).toBe(item(/^SQL orders$/));
    await user.keyboard('{ArrowLeft}');
    expect(focused()).toBe(item(/^ingest$/));
    await user.keyboard('{ArrowDown}{Enter}');
    expect(screen.getByTestId('where').textContent).toBe('/projects/p1/jobs/j1');
    // Enter on a folder opens or closes it.
    item(/^archive$/).focus();
    await user.keyboard('{Enter}');
    expect(item(/^archive$/).getAttribute('aria-expanded')).toBe('false');
  });

  it("reaches an item's menu with Tab, opens it from the keyboard, and its dialog gives focus back to the menu's button", async () => {
    const user = userEvent.setup({ delay: null });
    renderTree();
    screen.getByRole('button', { name: '+ Folder' }).focus();
    await user.tab();
    expect(focused()).toBe(item(/^archive$/));
    // Only the focused item's menu button is a tab stop: Tab goes to it, then out of the tree.
    await user.tab();
    const more = screen.getByRole('button', { name: 'Actions for folder archive' });
    expect(focused()).toBe(more);
    await user.tab();
    expect(focused()).toBe(screen.getByRole('button', { name: 'After' }));

    // Down to a job, its menu by Shift+F10, Rename chosen with the arrows.
    item(/^archive$/).focus();
    await user.keyboard('{ArrowDown}');
    expect(focused()).toBe(item(/^SQL old$/));
    await user.keyboard('{Shift>}{F10}{/Shift}');
    const menu = screen.getByRole('menu', { name: 'Actions for job old' });
    expect(focused()).toBe(within(menu).getByRole('menuitem', { name: 'Rename' }));
    await user.keyboard('{Enter}');
    const dialog = screen.getByRole('dialog', { name: 'Rename' });
    expect(focused()).toBe(within(dialog).getByRole('textbox', { name: 'Name' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(focused()).toBe(screen.getByRole('button', { name: 'Actions for job old' }));
  });

  it('is a tree of items in groups, as assistive technology reads one', () => {
    renderTree();
    const tree = screen.getByRole('tree', { name: 'Jobs and folders' });
    // Items at their level, nested items in a group of their folder.
    expect(item(/^ingest$/).getAttribute('aria-level')).toBe('1');
    expect(item(/^SQL orders$/).getAttribute('aria-level')).toBe('2');
    expect(item(/^SQL orders$/).closest('[role="group"]')).toBeTruthy();
    expect(tree.querySelectorAll('ul:not([role]), li:not([role])')).toHaveLength(0);
  });
});
