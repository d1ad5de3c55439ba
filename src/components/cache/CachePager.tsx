import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

export interface ICachePagerProps {
  offset: number;
  /** Entries on the page shown. */
  count: number;
  total: number;
  pageSize: number;
  onPrevious: () => void;
  onNext: () => void;
  trans: TranslationBundle;
}

/**
 * "101–200 of 523" with Previous / Next; nothing when one page holds everything.
 */
export function CachePager({
  offset,
  count,
  total,
  pageSize,
  onPrevious,
  onNext,
  trans
}: ICachePagerProps): JSX.Element | null {
  if (total <= pageSize && offset === 0) {
    return null;
  }
  const first = count > 0 ? offset + 1 : 0;
  const last = offset + count;
  return (
    <div className="jp-ExecutorlabCache-pager">
      <button
        type="button"
        className="jp-ExecutorlabCache-button jp-mod-styled"
        data-action="previous-page"
        data-testid="executorlab-cache-previous-page"
        disabled={offset === 0}
        onClick={onPrevious}
      >
        {trans.__('Previous')}
      </button>
      <span className="jp-ExecutorlabCache-pagerRange">
        {trans.__('%1–%2 of %3', first, last, total)}
      </span>
      <button
        type="button"
        className="jp-ExecutorlabCache-button jp-mod-styled"
        data-action="next-page"
        data-testid="executorlab-cache-next-page"
        disabled={offset + count >= total}
        onClick={onNext}
      >
        {trans.__('Next')}
      </button>
    </div>
  );
}
