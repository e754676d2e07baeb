// Flink SQL in CodeMirror 6: highlighting, line numbers, validation problems as lint
// diagnostics at their line and column, and completion: connector and format names
// inside a table's `'connector' = '...'` option, elsewhere keywords, the draft's own
// tables and the project's functions (sqlCompletion.ts, loaded on the first request
// for completions: the editor shows without it).
import { useEffect, useImperativeHandle, useRef, type Ref } from 'react';
import { EditorState, type Extension } from '@codemirror/state';
import {
  EditorView,
  crosshairCursor,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { HighlightStyle, bracketMatching, defaultHighlightStyle, foldGutter, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { sql } from '@codemirror/lang-sql';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { FlinkSQL } from './sqlDialect';
import type { FunctionName } from './sqlCompletion';

export interface Problem {
  message: string;
  /** 1-based, as the API reports them; absent when the error has no place in the script. */
  line?: number;
  column?: number;
  /** Sluice's one line of advice beside the engine's words. */
  hint?: string;
  severity?: 'error' | 'warning';
}

/** Where a problem is in the document: its line (clamped to the document) and offset. */
function problemOffset(state: EditorState, p: Problem & { line: number }) {
  const line = state.doc.line(Math.min(Math.max(1, p.line), state.doc.lines));
  return { line, from: Math.min(line.from + Math.max(0, (p.column ?? 1) - 1), line.to) };
}

/** Maps an API position to a document range: from the column to the end of its word. */
export function problemToDiagnostic(state: EditorState, p: Problem & { line: number }): Diagnostic {
  const { line, from } = problemOffset(state, p);
  const rest = state.doc.sliceString(from, line.to);
  const word = /^[\w$`'.]+/.exec(rest)?.[0].length ?? 0;
  // An empty range shows no underline; mark at least one character, or the whole line.
  const to = word > 0 ? from + word : from < line.to ? from + 1 : from;
  const message = p.hint ? `${p.message}\n${p.hint}` : p.message;
  return { from: to === from ? line.from : from, to: to === from ? line.to : to, severity: p.severity ?? 'error', message };
}

const placed = (p: Problem): p is Problem & { line: number } => p.line != null;

/** A connector or format an engine version carries, as completion offers it. */
export interface ConnectorName {
  identifier: string;
  kind: 'connector' | 'format';
}

/** What the page can do to the editor from outside: insert at the cursor, go to a problem. */
export interface SqlEditorHandle {
  /** Replaces the selection (or inserts at the cursor) with `text` and focuses the editor. */
  insert: (text: string) => void;
  /** Puts the cursor at a problem's place, scrolled into view, and focuses the editor. */
  reveal: (p: Problem) => void;
}

// The option a table names a connector or a format with, and what is typed of the value
// so far: `'connector' = 'ka` -> ['connector', 'ka'].
const OPTION_VALUE = /'(connector|format|key\.format|value\.format)'\s*=\s*'([\w.-]*)$/;

/**
 * Completes connector names inside `'connector' = '...'` and format names inside
 * `'format'`, `'key.format'` and `'value.format'`, from `connectors()` (read on every
 * request, so the list can change after the editor is made).
 */
export function connectorCompletion(connectors: () => readonly ConnectorName[]) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const line = ctx.state.doc.lineAt(ctx.pos);
    const m = OPTION_VALUE.exec(line.text.slice(0, ctx.pos - line.from));
    if (!m) return null;
    const kind = m[1] === 'connector' ? 'connector' : 'format';
    const typed = m[2]!;
    const options = connectors()
      .filter((c) => c.kind === kind)
      .map((c) => ({ label: c.identifier, type: kind === 'connector' ? 'class' : 'enum', detail: kind }));
    if (options.length === 0) return null;
    return { from: ctx.pos - typed.length, options, validFor: /^[\w.-]*$/ };
  };
}

export const editorTheme = EditorView.theme({
  '&': { fontSize: '13.5px', height: '100%', backgroundColor: '#ffffff', color: '#1d232b' },
  '.cm-content': { fontFamily: 'var(--mono)', caretColor: '#1f6feb' },
  '.cm-gutters': { backgroundColor: '#f7f8fa', color: '#5f6b7a', borderRight: '1px solid #e4e7eb' },
  '.cm-activeLine': { backgroundColor: '#f3f7ff' },
  '.cm-activeLineGutter': { backgroundColor: '#e8f0fe' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: '#d7e4fc !important' },
  '.cm-scroller': { overflow: 'auto' },
});

/**
 * CodeMirror's default colours, but for the three that read at less than 4.5:1 on the
 * active line (types, escapes, invalid text), which are darkened.
 */
const highlightStyle = HighlightStyle.define(
  defaultHighlightStyle.specs.map((spec) => {
    const darker: Record<string, string> = { '#085': '#007a4c', '#e40': '#b83100', '#f00': '#c4001a' };
    return spec.color && darker[spec.color] ? { ...spec, color: darker[spec.color] } : spec;
  }),
);

/** Flink's own keywords, types and functions, so they highlight too. */
const flinkSql = sql({
  dialect: FlinkSQL,
  upperCaseKeywords: true,
});

type WordSource = (ctx: CompletionContext) => CompletionResult | null;

/** The word completion's module, fetched once, on the first request for completions. */
let wordModule: Promise<typeof import('./sqlCompletion')> | undefined;
function loadWordCompletion() {
  wordModule ??= import('./sqlCompletion').catch((e: unknown) => {
    // Not fetched (the network, a new deployment): the next request tries again.
    wordModule = undefined;
    throw e;
  });
  return wordModule;
}

/**
 * Everything the editor completes: connector and format names inside their options,
 * and words everywhere else in the code. The first request for words waits for their
 * module (a promise, which CodeMirror takes); later ones answer at once.
 */
export function sqlCompletion(connectors: () => readonly ConnectorName[], functions: () => readonly FunctionName[]) {
  const options = connectorCompletion(connectors);
  let words: WordSource | undefined;
  return (ctx: CompletionContext): CompletionResult | null | Promise<CompletionResult | null> => {
    const found = options(ctx);
    if (found) return found;
    if (words) return words(ctx);
    return loadWordCompletion().then(
      (m) => {
        words ??= m.wordCompletion(functions);
        return words(ctx);
      },
      () => null,
    );
  };
}

export function baseExtensions(): Extension[] {
  return [
    // A tab stop even when read-only (a viewer's editor, a diff), so its text can be
    // reached and scrolled from the keyboard.
    EditorView.contentAttributes.of({ tabindex: '0' }),
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    foldGutter(),
    drawSelection(),
    indentOnInput(),
    syntaxHighlighting(highlightStyle, { fallback: true }),
    bracketMatching(),
    rectangularSelection(),
    crosshairCursor(),
    highlightActiveLine(),
    keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
    flinkSql,
    editorTheme,
  ];
}

export function SqlEditor({
  value,
  onChange,
  problems,
  readOnly = false,
  onSaveShortcut,
  label = 'SQL',
  connectors,
  functions,
  ref,
}: {
  value: string;
  onChange?: (v: string) => void;
  problems?: Problem[];
  readOnly?: boolean;
  /** Ctrl/Cmd-S: data engineers expect it to save. */
  onSaveShortcut?: () => void;
  label?: string;
  /** Connector and format names to complete inside `'connector' = '...'` and the like. */
  connectors?: readonly ConnectorName[];
  /** The project's registered functions, completed by name. */
  functions?: readonly FunctionName[];
  ref?: Ref<SqlEditorHandle>;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const onSaveRef = useRef(onSaveShortcut);
  onSaveRef.current = onSaveShortcut;
  const connectorsRef = useRef(connectors ?? []);
  connectorsRef.current = connectors ?? [];
  const functionsRef = useRef(functions ?? []);
  functionsRef.current = functions ?? [];

  useImperativeHandle(
    ref,
    () => ({
      insert: (text: string) => {
        const v = view.current;
        if (!v || readOnly) return;
        v.dispatch(v.state.replaceSelection(text), { scrollIntoView: true });
        v.focus();
      },
      reveal: (p: Problem) => {
        const v = view.current;
        if (!v || !placed(p)) return;
        const { from } = problemOffset(v.state, p);
        v.dispatch({ selection: { anchor: from }, scrollIntoView: true });
        v.focus();
      },
    }),
    [readOnly],
  );

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          keymap.of([
            {
              key: 'Mod-s',
              preventDefault: true,
              run: () => {
                onSaveRef.current?.();
                return true;
              },
            },
          ]),
          ...baseExtensions(),
          lintGutter(),
          // Only this source: lang-sql's own keyword list is standard SQL's, not Flink's.
          autocompletion({ override: [sqlCompletion(() => connectorsRef.current, () => functionsRef.current)] }),
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChangeRef.current?.(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is made once; value and problems flow in through the effects below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [readOnly]);

  // A new value from outside (another job, a merge, a rollback) replaces the document.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const diags = (problems ?? []).filter(placed).map((p) => problemToDiagnostic(v.state, p));
    v.dispatch(setDiagnostics(v.state, diags));
  }, [problems]);

  return <div className="editor-host" ref={host} data-testid="sql-editor" />;
}
