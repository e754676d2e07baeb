import { describe, expect, it } from 'vitest';
import { act, render, screen, waitFor } from '@testing-library/react';
import { EditorView } from '@codemirror/view';
import { EditorState } from '@codemirror/state';
import { CompletionContext, acceptCompletion, currentCompletions, startCompletion } from '@codemirror/autocomplete';
import { SqlEditor, sqlCompletion } from './SqlEditor';
import { declaredTables, FlinkSQL } from './sqlCompletion';
import { sql } from '@codemirror/lang-sql';

const FUNCTIONS = [
  { name: 'mask_email', kind: 'scalar' },
  { name: 'explode_tags', kind: 'table' },
];
const CONNECTORS = [{ identifier: 'kafka', kind: 'connector' as const }];

const DRAFT = `CREATE TEMPORARY TABLE orders (id BIGINT, email STRING) WITH ('connector' = 'datagen');
-- CREATE TABLE commented_out (x INT);
CREATE TABLE IF NOT EXISTS \`order items\` (n INT) WITH ('comment' = 'CREATE TABLE in_a_string (x INT)');
CREATE VIEW big_orders AS SELECT * FROM orders WHERE id > 10;
`;

/**
 * What completion offers at the end of `doc` (as if typed, or asked for with Ctrl+Space).
 * Awaited: the first request for words waits for their module.
 */
async function complete(doc: string, explicit = false) {
  const state = EditorState.create({ doc, extensions: [sql({ dialect: FlinkSQL })] });
  const r = await sqlCompletion(() => CONNECTORS, () => FUNCTIONS)(new CompletionContext(state, doc.length, explicit));
  return r && { typed: doc.slice(r.from), labels: r.options.map((o) => o.label), options: r.options };
}

describe('SQL completion', () => {
  it('finds the tables and views a draft declares, not those in comments or strings', () => {
    expect(declaredTables(DRAFT)).toEqual([
      { name: 'orders', kind: 'table' },
      { name: '`order items`', kind: 'table' },
      { name: 'big_orders', kind: 'view' },
    ]);
  });

  it('offers Flink keywords in the case being typed', async () => {
    const r = (await complete('sel'))!;
    expect(r.typed).toBe('sel');
    expect(r.labels[0]).toBe('select');
    expect((await complete('CREATE TABLE t (ts TIMESTAMP(3), WATER'))!.labels).toContain('WATERMARK');
    expect((await complete('SELECT * FROM t WHERE x IN'))!.labels[0]).toBe('IN');
  });

  it("offers the draft's tables first where a table is expected", async () => {
    const r = (await complete(DRAFT + 'INSERT INTO big_sink SELECT * FROM ord'))!;
    expect(r.labels).toEqual(['orders', 'order items', 'order', 'big_orders']);
    expect(r.options[0]!.detail).toBe('table in this draft');
    // A quoted name is inserted quoted.
    expect(r.options[1]!.apply).toBe('`order items`');
    expect((await complete(DRAFT + 'SELECT * FROM big'))!.labels).toEqual(['big_orders', 'bigint']);
  });

  it("offers the project's registered functions, also by a part of their name", async () => {
    const r = (await complete(DRAFT + 'SELECT mask'))!;
    expect(r.labels).toEqual(['mask_email']);
    expect(r.options[0]!.detail).toBe('scalar function');
    expect((await complete(DRAFT + 'SELECT email'))!.labels).toContain('mask_email');
    // Built-in functions too.
    expect((await complete('SELECT DATE_F'))!.labels).toEqual(['DATE_FORMAT']);
  });

  it('keeps connector names inside their option, and offers nothing in strings, comments or after a dot', async () => {
    expect((await complete("CREATE TABLE t (n INT) WITH ('connector' = 'ka"))!.labels).toEqual(['kafka']);
    expect(await complete("SELECT 'sel")).toBeNull();
    expect(await complete('-- sel')).toBeNull();
    expect(await complete('SELECT o.em')).toBeNull();
    // One letter typed opens nothing by itself; Ctrl+Space does.
    expect(await complete('SELECT a')).toBeNull();
    expect((await complete('SELECT a', true))!.labels).toContain('avg');
    // What is typed exactly comes first, so Enter at the end of a word keeps it.
    expect((await complete('SELECT * FROM t WHERE a = 1 or'))!.labels[0]).toBe('or');
  });

  it('completes in the editor from the functions it is given', async () => {
    const doc = DRAFT + 'INSERT INTO sink SELECT mask_';
    render(<SqlEditor value={doc} functions={FUNCTIONS} connectors={CONNECTORS} />);
    const view = EditorView.findFromDOM(screen.getByTestId('sql-editor').querySelector('.cm-editor') as HTMLElement)!;
    act(() => view.dispatch({ selection: { anchor: doc.length } }));
    act(() => void startCompletion(view));
    await waitFor(() => expect(currentCompletions(view.state).map((c) => c.label)).toEqual(['mask_email']));
    // The list takes a pick only once it has been open a moment: try until it does.
    await waitFor(() => {
      act(() => void acceptCompletion(view));
      expect(view.state.doc.toString()).toBe(DRAFT + 'INSERT INTO sink SELECT mask_email');
    });
  });
});
