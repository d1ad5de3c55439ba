import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { FUTURE_MIME_TYPE, GRAPH_MIME_TYPE } from '../tokens';
import { CellGraphRenderer } from './CellGraphRenderer';
import { FutureRenderer } from './FutureRenderer';

/**
 * Rank of both renderers: before every JupyterLab default (HTML is 50, SVG 80,
 * plain text 120), so they win over the `text/plain` and `image/svg+xml`
 * fallbacks in the same bundle.
 */
export const CELL_OUTPUT_RANK = 0;

/**
 * Renderer factory for futures displayed in cells. Safe: it shows text only, so
 * untrusted notebooks (e.g. after a reload) render it too.
 */
export function createFutureRendererFactory(
  options: FutureRenderer.IOptions
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [FUTURE_MIME_TYPE],
    defaultRank: CELL_OUTPUT_RANK,
    createRenderer: rendererOptions =>
      new FutureRenderer({
        ...options,
        translator: options.translator ?? rendererOptions.translator
      })
  };
}

/**
 * Renderer factory for dependency graphs from executorlib's plot mode. Safe: it
 * draws text and shapes only.
 */
export function createGraphRendererFactory(
  options: CellGraphRenderer.IOptions = {}
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [GRAPH_MIME_TYPE],
    defaultRank: CELL_OUTPUT_RANK,
    createRenderer: rendererOptions =>
      new CellGraphRenderer({ translator: options.translator ?? rendererOptions.translator })
  };
}
