import { GraphModel, IGraphTask } from './model';
import { GraphRenderer } from './renderer';

export * from './model';
export * from './renderer';
export * from './widget';

/**
 * Timings of one `layoutAndRender` call, in milliseconds.
 */
export interface ILayoutAndRenderResult {
  /** dagre layout of the graph. */
  layoutMs: number;
  /** Building the SVG (DOM work only: the browser's style, layout and paint come later). */
  renderMs: number;
  /** Drawn nodes (tasks and groups) and edges. */
  nodes: number;
  edges: number;
  /** The renderer, to inspect the SVG or re-render. */
  renderer: GraphRenderer;
  /** Remove the SVG and release the model. */
  dispose(): void;
}

/**
 * Lay out and draw `tasks` into `container`, timing each phase (for benchmarks).
 *
 * `nodeLimit` defaults to no grouping, so every task is drawn.
 */
export function layoutAndRender(
  container: HTMLElement,
  tasks: Iterable<IGraphTask>,
  options: { nodeLimit?: number } = {}
): ILayoutAndRenderResult {
  const model = new GraphModel({ nodeLimit: options.nodeLimit ?? Infinity, tasks });
  const renderer = new GraphRenderer({ model, container });
  const t0 = performance.now();
  const layout = model.layout();
  const t1 = performance.now();
  renderer.render();
  const t2 = performance.now();
  return {
    layoutMs: t1 - t0,
    renderMs: t2 - t1,
    nodes: layout.nodes.size,
    edges: layout.edges.size,
    renderer,
    dispose: () => {
      renderer.dispose();
      model.dispose();
    }
  };
}
