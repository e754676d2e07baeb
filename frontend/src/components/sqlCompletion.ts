// Completion of Flink SQL in the editor: keywords and types, the tables and views the
// draft declares itself (CREATE TABLE / CREATE VIEW names in its text), the project's
// registered functions and Flink's built-in ones. Connector and format names inside
// `'connector' = '...'` come from connectorCompletion (SqlEditor.tsx).
//
// Options are filtered by prefix here, not fuzzily: Enter accepts the selected option,
// and a fuzzy list would turn a column name typed at the end of a line into some
// keyword that happens to contain its letters. The same reason keeps the list shut
// until two letters are typed (Ctrl+Space opens it at once).
//
// The editor loads this module when it first asks for completions (SqlEditor.tsx); the
// word lists themselves are in sqlDialect.ts, which highlighting needs from the start.
import { syntaxTree } from '@codemirror/language';
import type { Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import { FLINK_FUNCTIONS, FLINK_KEYWORDS, FLINK_TYPES } from './sqlDialect';

export { FLINK_FUNCTIONS, FLINK_KEYWORDS, FLINK_TYPES, FlinkSQL } from './sqlDialect';

const words = (list: string) => list.split(/\s+/).filter(Boolean);

/** A function the project registered, as completion offers it. */
export interface FunctionName {
  name: string;
  /** `scalar`, `table`, `aggregate`… */
  kind?: string;
}

/** A table or view the draft declares. */
export interface DeclaredTable {
  /** As SQL refers to it: the written name, backquotes kept where it has them. */
  name: string;
  kind: 'table' | 'view';
}

/** The text with comments and string literals blanked out (same length, same lines). */
function codeOnly(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const two = text.slice(i, i + 2);
    let end = i;
    if (two === '--') {
      end = text.indexOf('\n', i);
      if (end < 0) end = text.length;
    } else if (two === '/*') {
      end = text.indexOf('*/', i + 2);
      end = end < 0 ? text.length : end + 2;
    } else if (text[i] === "'") {
      end = i + 1;
      // '' inside a literal is a quote, not its end.
      while (end < text.length && !(text[end] === "'" && text[end + 1] !== "'")) end += text[end] === "'" ? 2 : 1;
      end = Math.min(end + 1, text.length);
    } else {
      out += text[i];
      i += 1;
      continue;
    }
    out += text.slice(i, end).replace(/[^\n]/g, ' ');
    i = end;
  }
  return out;
}

const PART = '(?:`(?:[^`]|``)+`|[\\w$]+)';
const DECLARATION = new RegExp(
  `\\bcreate\\s+(?:or\\s+replace\\s+)?(?:temporary\\s+)?(?:materialized\\s+)?(table|view)\\s+(?:if\\s+not\\s+exists\\s+)?(${PART}(?:\\s*\\.\\s*${PART})*)`,
  'gi',
);

/** The tables and views `CREATE [TEMPORARY] TABLE|VIEW <name>` declares in `text`, in order, once each. */
export function declaredTables(text: string): DeclaredTable[] {
  const seen = new Set<string>();
  const out: DeclaredTable[] = [];
  for (const m of codeOnly(text).matchAll(DECLARATION)) {
    const name = m[2]!.replace(/\s*\.\s*/g, '.');
    const kind = m[1]!.toLowerCase() as 'table' | 'view';
    if (seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    out.push({ name, kind });
  }
  return out;
}

/** After these words a table name usually follows: tables come first there. */
const BEFORE_TABLE = new Set(['from', 'join', 'into', 'table', 'update', 'describe', 'desc', 'overwrite']);

/** Nodes no word is completed in. */
const NOT_CODE = new Set(['String', 'LineComment', 'BlockComment', 'QuotedIdentifier']);

type Kind = 'table' | 'function' | 'keyword' | 'builtin' | 'type';

interface Candidate {
  label: string;
  kind: Kind;
  detail: string;
  /** What is inserted when it differs from the label (a quoted name). */
  apply?: string;
}

const KEYWORDS = words(FLINK_KEYWORDS);
const TYPES = words(FLINK_TYPES);
const BUILTINS = words(FLINK_FUNCTIONS);

/**
 * The completion source for words: keywords and types in the case being typed, the
 * draft's tables, the project's functions (`functions()` is read on every request, so
 * the list can change after the editor is made) and the built-in functions.
 */
export function wordCompletion(functions: () => readonly FunctionName[]) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const word = ctx.matchBefore(/[\w$]*/);
    if (!word) return null;
    const typed = word.text;
    if (/^\d/.test(typed)) return null;
    if (!ctx.explicit && typed.length < 2) return null;
    const node = syntaxTree(ctx.state).resolveInner(ctx.pos, -1);
    if (NOT_CODE.has(node.name)) return null;
    // A column of a table (`t.col`) or a part of a qualified name: nothing known to offer.
    if (ctx.state.sliceDoc(word.from - 1, word.from) === '.') return null;

    const lower = typed.toLowerCase();
    // Keywords follow the case being typed: `sel` -> `select`, `SEL` -> `SELECT`.
    const upper = typed === '' || typed !== lower;
    const cased = (w: string) => (upper ? w.toUpperCase() : w);
    const text = ctx.state.doc.toString();
    const candidates: Candidate[] = [
      ...declaredTables(text).map((t) => {
        const bare = t.name.replace(/`/g, '');
        return { label: bare, kind: 'table' as const, detail: `${t.kind} in this draft`, apply: bare === t.name ? undefined : t.name };
      }),
      ...functions().map((f) => ({ label: f.name, kind: 'function' as const, detail: f.kind ? `${f.kind} function` : 'function' })),
      ...KEYWORDS.map((k) => ({ label: cased(k), kind: 'keyword' as const, detail: 'keyword' })),
      ...TYPES.map((k) => ({ label: cased(k), kind: 'type' as const, detail: 'type' })),
      ...BUILTINS.map((k) => ({ label: cased(k), kind: 'builtin' as const, detail: 'built-in function' })),
    ];

    // The word before this one says whether a table name is expected.
    const before = /([\w$]+)\s*$/.exec(ctx.state.sliceDoc(Math.max(0, word.from - 40), word.from))?.[1]?.toLowerCase();
    const rank: Record<Kind, number> = before && BEFORE_TABLE.has(before)
      ? { table: 0, function: 3, keyword: 2, builtin: 4, type: 5 }
      : { keyword: 0, table: 1, function: 2, builtin: 3, type: 4 };

    const seen = new Set<string>();
    const matched: { c: Candidate; score: number[]; at: number }[] = [];
    for (const c of candidates) {
      const key = c.label.toLowerCase();
      // A registered function may share a built-in's name; a table may share a keyword's.
      if (seen.has(key)) continue;
      let at = key.startsWith(lower) ? 0 : -1;
      // snake_case names also match at a part: `email` finds mask_email.
      if (at < 0 && lower && (c.kind === 'function' || c.kind === 'table')) {
        const i = key.indexOf('_' + lower);
        if (i >= 0) at = i + 1;
      }
      if (at < 0) continue;
      seen.add(key);
      matched.push({ c, at, score: [key === lower ? 0 : 1, at === 0 ? 0 : 1, rank[c.kind], key.length] });
    }
    matched.sort((a, b) => {
      for (let i = 0; i < a.score.length; i++) if (a.score[i] !== b.score[i]) return a.score[i]! - b.score[i]!;
      return a.c.label.localeCompare(b.c.label);
    });
    if (matched.length === 0) return null;
    const atOf = new Map(matched.map((m) => [m.c.label, m.at]));
    const options: Completion[] = matched.map(({ c }) => ({
      label: c.label,
      detail: c.detail,
      type: c.kind === 'table' ? 'variable' : c.kind === 'builtin' ? 'function' : c.kind,
      ...(c.apply ? { apply: c.apply } : {}),
    }));
    return {
      from: word.from,
      options,
      // Filtered here (see the top of the file); the typed part is what matched.
      filter: false,
      getMatch: (o) => {
        const at = atOf.get(o.label) ?? 0;
        return typed ? [at, at + typed.length] : [];
      },
    };
  };
}
