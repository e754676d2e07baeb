// The shared dialog and menu from the keyboard: a dialog takes focus when it opens,
// keeps Tab inside while open and gives focus back when it closes; a menu opens, moves
// and closes with the keys a menu button answers to.
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Dialog, FormDialog, Menu } from './ui';

function Opener({ fields = true }: { fields?: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button onClick={() => setOpen(true)}>Open</button>
      <button>Behind</button>
      {open && (
        <Dialog
          title="Settings"
          onClose={() => setOpen(false)}
          footer={
            <>
              <button onClick={() => setOpen(false)}>Cancel</button>
              <button>Apply</button>
            </>
          }
        >
          {fields ? (
            <>
              <label>
                Name <input />
              </label>
              <label>
                Size <select><option>1</option></select>
              </label>
            </>
          ) : (
            <p>Nothing to fill in.</p>
          )}
        </Dialog>
      )}
    </>
  );
}

describe('Dialog', () => {
  it('takes focus when it opens: its first field', async () => {
    const user = userEvent.setup();
    render(<Opener />);
    await user.click(screen.getByRole('button', { name: 'Open' }));
    expect(document.activeElement).toBe(screen.getByRole('textbox', { name: 'Name' }));
  });

  it('takes focus itself when it has no field, so Escape and Tab reach it', async () => {
    const user = userEvent.setup();
    render(<Opener fields={false} />);
    await user.click(screen.getByRole('button', { name: 'Open' }));
    expect(document.activeElement).toBe(screen.getByRole('dialog', { name: 'Settings' }));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Cancel' }));
  });

  it('keeps Tab and Shift+Tab inside while open', async () => {
    const user = userEvent.setup();
    render(<Opener />);
    await user.click(screen.getByRole('button', { name: 'Open' }));
    const dialog = screen.getByRole('dialog');
    const order = ['Name', 'Size', 'Cancel', 'Apply'];
    const name = () => {
      const el = document.activeElement as HTMLElement;
      return el.tagName === 'BUTTON' ? el.textContent : el.closest('label')!.textContent!.split(' ')[0];
    };
    const seen = [name()];
    for (let i = 0; i < 4; i++) {
      await user.tab();
      expect(dialog.contains(document.activeElement)).toBe(true);
      seen.push(name());
    }
    // Past the last button, back to the first field; never the page behind.
    expect(seen).toEqual([...order, 'Name']);
    await user.tab({ shift: true });
    expect(name()).toBe('Apply');
  });

  it('gives focus back to the button that opened it, on Escape and on Cancel', async () => {
    const user = userEvent.setup();
    render(<Opener />);
    const open = screen.getByRole('button', { name: 'Open' });
    await user.click(open);
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(open);

    await user.keyboard('{Enter}');
    expect(screen.getByRole('dialog')).toBeTruthy();
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(open);
  });

  it('answers Escape in the innermost of two open dialogs only', async () => {
    const user = userEvent.setup();
    function Two() {
      const [inner, setInner] = useState(true);
      const [outer, setOuter] = useState(true);
      return outer ? (
        <Dialog title="Outer" onClose={() => setOuter(false)}>
          <button>Outer field</button>
          {inner && (
            <Dialog title="Inner" onClose={() => setInner(false)}>
              <button>Inner field</button>
            </Dialog>
          )}
        </Dialog>
      ) : null;
    }
    render(<Two />);
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog', { name: 'Inner' })).toBeNull();
    expect(screen.getByRole('dialog', { name: 'Outer' })).toBeTruthy();
  });
});

describe('FormDialog as a form', () => {
  function TwoFields({ onSubmit }: { onSubmit: () => Promise<void> }) {
    const [name, setName] = useState('');
    return (
      <FormDialog title="New thing" submitLabel="Create" form disabled={!name} onClose={() => {}} onSubmit={onSubmit}>
        <label>
          Name <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Description <input />
        </label>
        <button type="button">+ Row</button>
      </FormDialog>
    );
  }

  it('submits on Enter in any of its fields, as its submit button does', async () => {
    const user = userEvent.setup();
    let sent = 0;
    // Refused each time, so the dialog stays open for the next try.
    render(
      <TwoFields
        onSubmit={async () => {
          sent++;
          throw new Error('refused');
        }}
      />,
    );
    // Nothing to send yet: Enter does what the disabled button would, nothing.
    await user.type(screen.getByRole('textbox', { name: 'Name' }), '{Enter}');
    expect(sent).toBe(0);
    await user.type(screen.getByRole('textbox', { name: 'Name' }), 'orders{Enter}');
    expect(sent).toBe(1);
    await screen.findByText('refused');
    await user.type(screen.getByRole('textbox', { name: 'Description' }), 'all of them{Enter}');
    expect(sent).toBe(2);
    // A button in the content that is not the submit button does not send.
    await user.click(screen.getByRole('button', { name: '+ Row' }));
    expect(sent).toBe(2);
  });
});

describe('Menu', () => {
  function Actions({ chose }: { chose: (what: string) => void }) {
    return (
      <Menu label="⋯" title="Actions">
        {(close) => (
          <>
            <button role="menuitem" onClick={() => (close(), chose('rename'))}>
              Rename
            </button>
            <button role="menuitem" onClick={() => (close(), chose('delete'))}>
              Delete
            </button>
          </>
        )}
      </Menu>
    );
  }

  it('opens from the keyboard with its first item focused; arrows move, Enter chooses, focus goes back to the button', async () => {
    const user = userEvent.setup();
    const chosen: string[] = [];
    render(<Actions chose={(w) => chosen.push(w)} />);
    const button = screen.getByRole('button', { name: 'Actions' });
    await user.tab();
    expect(document.activeElement).toBe(button);
    await user.keyboard('{Enter}');
    const menu = screen.getByRole('menu', { name: 'Actions' });
    expect(button.getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement).toBe(within(menu).getByRole('menuitem', { name: 'Rename' }));
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(within(menu).getByRole('menuitem', { name: 'Delete' }));
    // Round from the last to the first.
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(within(menu).getByRole('menuitem', { name: 'Rename' }));
    await user.keyboard('{ArrowUp}{Enter}');
    expect(chosen).toEqual(['delete']);
    expect(screen.queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it('closes on Escape (focus back on its button) and on Tab; Down on the button opens it', async () => {
    const user = userEvent.setup();
    render(
      <>
        <Actions chose={() => {}} />
        <button>Next</button>
      </>,
    );
    const button = screen.getByRole('button', { name: 'Actions' });
    button.focus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByRole('menu')).toBeTruthy();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(button);
    await user.keyboard('{ArrowDown}');
    await user.tab();
    expect(screen.queryByRole('menu')).toBeNull();
  });
});
