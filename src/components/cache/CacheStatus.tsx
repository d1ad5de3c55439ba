import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { CacheEntryStatus } from '../../cache/tokens';

const STATUS_GLYPHS: Record<CacheEntryStatus, string> = {
  done: '\u2713',
  failed: '\u2715',
  pending: '\u25CB'
};

export function cacheStatusLabel(
  status: CacheEntryStatus,
  trans: TranslationBundle
): string {
  switch (status) {
    case 'done':
      return trans.__('Done');
    case 'failed':
      return trans.__('Failed');
    case 'pending':
      return trans.__('Pending');
  }
}

export interface ICacheStatusProps {
  status: CacheEntryStatus;
  trans: TranslationBundle;
}

/**
 * Coloured mark plus the name of what a cache file holds.
 */
export function CacheStatus({ status, trans }: ICacheStatusProps): JSX.Element {
  return (
    <span className="jp-ExecutorlabCache-status" data-status={status}>
      <span className="jp-ExecutorlabCache-statusIcon" aria-hidden="true">
        {STATUS_GLYPHS[status]}
      </span>
      {cacheStatusLabel(status, trans)}
    </span>
  );
}
