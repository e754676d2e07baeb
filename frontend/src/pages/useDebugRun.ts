// The debug run the job editor follows, and what its debug dialog asked for last: kept
// by the editor from the start, while the dialog and the panel that show them
// (DebugRun.tsx) load when first shown.
import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, call, type Schemas } from '../api/client';

type DebugRun = Schemas['DebugRun'];
type DebugRow = Schemas['DebugRow'];
type ScriptError = Schemas['ScriptError'];
type TableRef = Schemas['TableRef'];

/** How often a running run is read: often enough that rows appear as they come. */
export const POLL_MS = 500;
/** Rows the server returns at most a read: a full page means more are waiting. */
const ROWS_PER_READ = 500;

/** What the dialog asked for last, so the next run of the draft starts from it. */
export interface DebugSettings {
  /** Per source table, the sample it reads; a table not here reads live. */
  samples: Record<string, string>;
  recordLimit: string;
  timeLimit: string;
  /** A session cluster's id; empty: the server's default. */
  clusterId: string;
}

export const NO_DEBUG_SETTINGS: DebugSettings = { samples: {}, recordLimit: '', timeLimit: '', clusterId: '' };

/** The draft's source tables, as its validation read as a debug run (`debug: true`) lists them. */
export interface DebugSources {
  tables: TableRef[];
  /**
   * False when Sluice's reading of the script stopped at its errors (one it cannot
   * parse, say) before it listed any table: they are named by hand.
   */
  listed: boolean;
}

/** Why the server would not start a run: the script's own mistakes, each at its place. */
export interface DebugRefusal {
  message: string;
  errors: ScriptError[];
}

/** A run and every row read from it so far. */
export interface DebugState {
  run: DebugRun;
  rows: DebugRow[];
  /** The last read's failure, while reads go on. */
  error?: unknown;
}

export interface DebugRunControl {
  state?: DebugState;
  /** Shows a run just started and reads it until it ends (or the page is left). */
  follow: (run: DebugRun) => void;
  stop: () => Promise<void>;
  stopping: boolean;
}

/**
 * Follows one debug run: reads it every POLL_MS with the last row's position until it
 * has ended and every row is read, keeping all rows. Reading stops when the editor
 * goes away: the server notices nobody reads and stops the run itself.
 */
export function useDebugRun(projectId: string): DebugRunControl {
  const [state, setState] = useState<DebugState>();
  const [stopping, setStopping] = useState(false);
  const runId = state?.run.id;

  useEffect(() => {
    if (!runId) return;
    let gone = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let after = 0;
    const read = async () => {
      let next = POLL_MS;
      try {
        const from = after;
        const r = await call(
          api.GET('/projects/{project_id}/debug-runs/{run_id}', { params: { path: { project_id: projectId, run_id: runId }, query: { after: from } } }),
        );
        if (gone) return;
        after = r.rows.at(-1)?.seq ?? from;
        setState((s) => (s?.run.id === r.id ? { run: r, rows: from === 0 ? r.rows : [...s.rows, ...r.rows] } : s));
        if (r.rows.length >= ROWS_PER_READ) next = 0;
        else if (r.status === 'ended') return;
      } catch (e) {
        if (gone) return;
        setState((s) => (s?.run.id === runId ? { ...s, error: e } : s));
        // The run is gone (deleted with its job): nothing more to read.
        if (e instanceof ApiError && e.status === 404) return;
        next = 4 * POLL_MS;
      }
      if (!gone) timer = setTimeout(() => void read(), next);
    };
    void read();
    return () => {
      gone = true;
      clearTimeout(timer);
    };
  }, [projectId, runId]);

  const follow = useCallback((run: DebugRun) => setState({ run, rows: [] }), []);
  const stop = useCallback(async () => {
    if (!runId) return;
    setStopping(true);
    try {
      const r = await call(api.POST('/projects/{project_id}/debug-runs/{run_id}/cancel', { params: { path: { project_id: projectId, run_id: runId } } }));
      // The answer carries no rows; the reads bring the rest and the end.
      setState((s) => (s?.run.id === r.id && s.run.status !== 'ended' ? { ...s, run: { ...r, rows: [] }, error: undefined } : s));
    } catch (e) {
      setState((s) => (s ? { ...s, error: e } : s));
    } finally {
      setStopping(false);
    }
  }, [projectId, runId]);
  return { state, follow, stop, stopping };
}
