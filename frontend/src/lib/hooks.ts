// Small data hooks: the console needs loading/error/reload and cursor pages, not a
// caching library.
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  set: (v: T) => void;
}

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  // The newest request wins: a slow answer for old deps must not overwrite a new one.
  const seq = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const v = await loadRef.current();
      if (mine === seq.current) {
        setData(v);
        setError(undefined);
      }
    } catch (e) {
      if (mine === seq.current) setError(e);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, []);
  useEffect(() => {
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return { data, error, loading, reload, set: setData };
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface Paged<T> {
  items: T[];
  error: unknown;
  loading: boolean;
  hasMore: boolean;
  loadMore: () => Promise<void>;
  reload: () => Promise<void>;
}

/** A cursor-paginated list: the first page on mount, more on demand. */
export function usePaged<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  deps: readonly unknown[],
): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;
  const seq = useRef(0);
  // How many pages are shown, so a reload (e.g. polling) refreshes all of them.
  const pages = useRef(1);

  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      let all: T[] = [];
      let next: string | undefined;
      for (let i = 0; i < pages.current; i++) {
        const p = await fetchRef.current(next);
        all = all.concat(p.items);
        next = p.next_cursor ?? undefined;
        if (!next) break;
      }
      if (mine !== seq.current) return;
      setItems(all);
      setCursor(next);
      setHasMore(!!next);
      setError(undefined);
    } catch (e) {
      if (mine === seq.current) setError(e);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, []);

  const loadMore = useCallback(async () => {
    if (!cursor) return;
    const mine = ++seq.current;
    setLoading(true);
    try {
      const p = await fetchRef.current(cursor);
      if (mine !== seq.current) return;
      pages.current += 1;
      setItems((old) => old.concat(p.items));
      setCursor(p.next_cursor ?? undefined);
      setHasMore(!!p.next_cursor);
    } catch (e) {
      if (mine === seq.current) setError(e);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [cursor]);

  useEffect(() => {
    pages.current = 1;
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return { items, error, loading, hasMore, loadMore, reload };
}

/** Calls `tick` every `ms` while the tab is visible, and at once when it becomes visible. */
export function useVisiblePolling(tick: () => void, ms: number, enabled = true): void {
  const ref = useRef(tick);
  ref.current = tick;
  useEffect(() => {
    if (!enabled) return;
    let timer: ReturnType<typeof setInterval> | undefined;
    const startTimer = () => {
      if (timer === undefined) timer = setInterval(() => ref.current(), ms);
    };
    const stopTimer = () => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    };
    const onVisibility = () => {
      if (document.visibilityState === 'visible') {
        ref.current();
        startTimer();
      } else stopTimer();
    };
    if (document.visibilityState === 'visible') startTimer();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      stopTimer();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [ms, enabled]);
}

/** Fetches every page of a list (for small lists like folders, where a tree needs all). */
export async function fetchAll<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  let all: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const p = await fetchPage(cursor);
    all = all.concat(p.items);
    cursor = p.next_cursor ?? undefined;
    if (!cursor) break;
  }
  return all;
}

/** Shows a long list loaded whole `step` rows at a time: `more` shows the next step. */
export function useShown(step = 100) {
  const [shown, setShown] = useState(step);
  return { shown, more: () => setShown((n) => n + step), reset: () => setShown(step) };
}
