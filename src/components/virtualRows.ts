import * as React from 'react';

/**
 * Rows `start` (inclusive) to `end` (exclusive) are rendered; the others are
 * replaced by spacers of `before` and `after` pixels.
 */
export interface IRowWindow {
  start: number;
  end: number;
  before: number;
  after: number;
}

export interface IWindowInput {
  /** Rows in the list. */
  count: number;
  /** Height of every row, in pixels. */
  rowHeight: number;
  /** `scrollTop` of the scroll container. */
  scrollTop: number;
  /** `clientHeight` of the scroll container; 0 before it is laid out. */
  viewport: number;
  /** Rows rendered beyond each edge of the viewport. */
  overscan: number;
  /** Rows rendered while the container has no height yet (hidden, or no layout). */
  fallbackRows: number;
}

/**
 * The rows to render for a scroll position. Pure, so it is tested without layout.
 */
export function rowWindow({
  count,
  rowHeight,
  scrollTop,
  viewport,
  overscan,
  fallbackRows
}: IWindowInput): IRowWindow {
  const height = Math.max(1, rowHeight);
  const visible =
    viewport > 0 ? Math.ceil(viewport / height) + 1 : Math.max(1, fallbackRows);
  let first = Math.floor(Math.max(0, scrollTop) / height);
  // The list got shorter than the scroll position (filtered): show its end.
  first = Math.min(first, Math.max(0, count - visible));
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return {
    start,
    end: Math.max(start, end),
    before: start * height,
    after: Math.max(0, count - Math.max(start, end)) * height
  };
}

export interface IVirtualRowsOptions {
  count: number;
  /** Row height until one is measured (and in environments without layout). */
  estimatedRowHeight: number;
  /** Rows rendered beyond each edge of the viewport; 10 by default. */
  overscan?: number;
  /** Rows rendered while the container has no height; 30 by default. */
  fallbackRows?: number;
  /** Finds a rendered row in the container, to measure its height. */
  rowSelector: string;
  /** Finds the sticky header in the container, which covers the first rows. */
  headerSelector?: string;
}

export interface IVirtualRows extends IRowWindow {
  /** Attach to the scroll container. */
  containerRef: React.RefObject<HTMLDivElement>;
  /** Pass as the container's `onScroll`. */
  onScroll: () => void;
  /** The row height in use (measured once rows are laid out). */
  rowHeight: number;
  /** Scroll just enough for row `index` to be entirely in view. */
  scrollIntoView: (index: number) => void;
  /** Scroll to the first row. */
  scrollToTop: () => void;
}

/**
 * Windowing for a list of equally high rows in a scroll container: only the rows
 * in view, plus `overscan` on each side, are rendered; spacers keep the scroll
 * height. Re-renders only when the window moves, not on every scrolled pixel.
 */
export function useVirtualRows({
  count,
  estimatedRowHeight,
  overscan = 10,
  fallbackRows = 30,
  rowSelector,
  headerSelector
}: IVirtualRowsOptions): IVirtualRows {
  const containerRef = React.useRef<HTMLDivElement>(null);
  const [rowHeight, setRowHeight] = React.useState(estimatedRowHeight);
  const [metrics, setMetrics] = React.useState({ scrollTop: 0, viewport: 0 });

  const current = rowWindow({
    count,
    rowHeight,
    scrollTop: metrics.scrollTop,
    viewport: metrics.viewport,
    overscan,
    fallbackRows
  });
  // Read by the (stable) callbacks below.
  const latest = React.useRef({ count, rowHeight, overscan, fallbackRows, current });
  latest.current = { count, rowHeight, overscan, fallbackRows, current };

  const update = React.useCallback(() => {
    const node = containerRef.current;
    if (!node) {
      return;
    }
    const scrollTop = node.scrollTop;
    const viewport = node.clientHeight;
    const { count, rowHeight, overscan, fallbackRows, current } = latest.current;
    const next = rowWindow({
      count,
      rowHeight,
      scrollTop,
      viewport,
      overscan,
      fallbackRows
    });
    if (next.start !== current.start || next.end !== current.end) {
      setMetrics({ scrollTop, viewport });
    }
  }, []);

  // The container's height changes with the sidebar and the panels around it.
  React.useLayoutEffect(() => {
    const node = containerRef.current;
    if (!node) {
      return;
    }
    update();
    if (typeof ResizeObserver === 'undefined') {
      window.addEventListener('resize', update);
      return () => window.removeEventListener('resize', update);
    }
    const observer = new ResizeObserver(() => update());
    observer.observe(node);
    return () => observer.disconnect();
  }, [update]);

  // A list of another length may need another window (and scroll height).
  React.useLayoutEffect(() => {
    update();
  }, [count, update]);

  // Measure the rendered rows: fonts and themes decide their height.
  React.useLayoutEffect(() => {
    const row = containerRef.current?.querySelector(rowSelector);
    const measured = row?.getBoundingClientRect().height ?? 0;
    if (measured > 0 && Math.abs(measured - rowHeight) > 0.5) {
      setRowHeight(measured);
    }
  });

  const scrollIntoView = React.useCallback(
    (index: number) => {
      const node = containerRef.current;
      if (!node || node.clientHeight <= 0 || index < 0) {
        return;
      }
      const { rowHeight } = latest.current;
      const header = headerSelector
        ? (node.querySelector(headerSelector)?.getBoundingClientRect().height ?? 0)
        : 0;
      const top = index * rowHeight;
      const bottom = top + rowHeight;
      const visible = Math.max(rowHeight, node.clientHeight - header);
      if (top < node.scrollTop) {
        node.scrollTop = top;
      } else if (bottom > node.scrollTop + visible) {
        node.scrollTop = bottom - visible;
      } else {
        return;
      }
      update();
    },
    [headerSelector, update]
  );

  const scrollToTop = React.useCallback(() => {
    const node = containerRef.current;
    if (node && node.scrollTop !== 0) {
      node.scrollTop = 0;
      update();
    }
  }, [update]);

  return {
    ...current,
    scrollToTop,
    containerRef,
    onScroll: update,
    rowHeight,
    scrollIntoView
  };
}
