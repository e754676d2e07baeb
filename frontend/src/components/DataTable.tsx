// The list table every page shows: a header, one row per item, a row saying why there
// are none, the load error above it and "Load more" below it.
import { Fragment, useEffect, useRef, type CSSProperties, type HTMLAttributes, type ReactNode } from 'react';
import type { Paged } from '../lib/hooks';
import { ErrorNote, LoadMore } from './ui';

export interface Column<T> {
  /** The header text; none for a column of buttons. */
  header?: ReactNode;
  cell: (row: T, index: number) => ReactNode;
  /** Right-aligned figures: the header and the cells are `num`. */
  num?: boolean;
  /** More classes for the cells (not the header), fixed or from the row. */
  className?: string | ((row: T) => string);
  style?: CSSProperties;
}

export interface Pager {
  hasMore: boolean;
  loading?: boolean;
  onMore: () => void;
}

export interface DataTableProps<T> {
  /** Columns in order; `false` (from `cond && {...}`) leaves one out. */
  columns: readonly (Column<T> | false | null | undefined)[];
  rows: readonly T[];
  rowKey: (row: T, index: number) => string | number;
  /** Said across the table when there are no rows and none are on their way. */
  empty?: ReactNode;
  /** While true, no rows does not mean none: the empty message waits. */
  loading?: boolean;
  /** Why the rows could not be loaded, shown above the table. */
  error?: unknown;
  /** "Load more" below the table while there is more. */
  more?: Pager;
  testId?: string;
  className?: string;
  style?: CSSProperties;
  /** Attributes of a row's <tr> (a class, aria-selected). */
  rowProps?: (row: T) => HTMLAttributes<HTMLTableRowElement>;
  /** Rows shown under a row (an opened detail), already wrapped in their <tr>. */
  detail?: (row: T) => ReactNode;
  /** Rows after the data rows (a total). */
  tail?: ReactNode;
}

export function DataTable<T>({
  columns,
  rows,
  rowKey,
  empty,
  loading = false,
  error,
  more,
  testId,
  className = 'list',
  style,
  rowProps,
  detail,
  tail,
}: DataTableProps<T>) {
  const cols = columns.filter((c): c is Column<T> => !!c);
  const scroller = useScrollStop();
  const cellClass = (c: Column<T>, row: T) => {
    const extra = typeof c.className === 'function' ? c.className(row) : c.className;
    return [c.num ? 'num' : '', extra ?? ''].filter(Boolean).join(' ') || undefined;
  };
  return (
    <>
      <ErrorNote error={error} />
      {/* A table wider than the page scrolls inside its own box, not the page. */}
      <div className="table-scroll" ref={scroller}>
        <table className={className} data-testid={testId} style={style}>
          <thead>
            <tr>
              {cols.map((c, i) => (
                <th key={i} className={c.num ? 'num' : undefined}>
                  {c.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <Fragment key={rowKey(row, index)}>
                <tr {...rowProps?.(row)}>
                  {cols.map((c, i) => (
                    <td key={i} className={cellClass(c, row)} style={c.style}>
                      {c.cell(row, index)}
                    </td>
                  ))}
                </tr>
                {detail?.(row)}
              </Fragment>
            ))}
            {tail}
            {empty !== undefined && !loading && rows.length === 0 && (
              <tr>
                <td colSpan={cols.length} className="empty">
                  {empty}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {more && <LoadMore hasMore={more.hasMore} loading={more.loading ?? false} onMore={more.onMore} />}
    </>
  );
}

/** What a DataTable takes from a cursor-paged list: its rows, load state, error and "Load more". */
export function pagedRows<T>(list: Paged<T>) {
  return {
    rows: list.items,
    loading: list.loading,
    error: list.error,
    more: { hasMore: list.hasMore, loading: list.loading, onMore: () => void list.loadMore() },
  };
}

/** The same for a list loaded whole and shown `shown` rows at a time (see useShown). */
export function shownRows<T>(items: readonly T[], page: { shown: number; more: () => void }) {
  return { rows: items.slice(0, page.shown), more: { hasMore: items.length > page.shown, onMore: page.more } };
}

/**
 * A box that scrolls sideways while its content is wider than it is: a tab stop then, so
 * the keyboard can scroll it too (a table of plain text has nothing else to focus).
 */
function useScrollStop() {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const box = ref.current;
    if (!box || typeof ResizeObserver === 'undefined') return;
    const update = () => {
      if (box.scrollWidth > box.clientWidth) {
        box.tabIndex = 0;
        box.setAttribute('role', 'region');
        box.setAttribute('aria-label', 'Table, scrolls sideways');
      } else {
        box.removeAttribute('tabindex');
        box.removeAttribute('role');
        box.removeAttribute('aria-label');
      }
    };
    const seen = new ResizeObserver(update);
    seen.observe(box);
    if (box.firstElementChild) seen.observe(box.firstElementChild);
    return () => seen.disconnect();
  }, []);
  return ref;
}
