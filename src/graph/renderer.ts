import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { select, Selection } from 'd3-selection';
import { curveBasis, line } from 'd3-shape';
import { zoom, ZoomBehavior, zoomIdentity, ZoomTransform } from 'd3-zoom';

import { TASK_STATES } from '../tokens';
import { stateLabel } from '../components/StateBadge';
import {
  fitLabel,
  GraphModel,
  IEdgeLayout,
  IGraphChange,
  IGraphLayout,
  IGraphNode,
  IPoint
} from './model';

const SVG_NS = 'http://www.w3.org/2000/svg';

export const GRAPH_CLASS = {
  canvas: 'jp-ExecutorlabGraph-canvas',
  viewport: 'jp-ExecutorlabGraph-viewport',
  edges: 'jp-ExecutorlabGraph-edges',
  nodes: 'jp-ExecutorlabGraph-nodes',
  node: 'jp-ExecutorlabGraph-node',
  group: 'jp-ExecutorlabGraph-group',
  shape: 'jp-ExecutorlabGraph-nodeShape',
  label: 'jp-ExecutorlabGraph-label',
  count: 'jp-ExecutorlabGraph-count',
  bar: 'jp-ExecutorlabGraph-bar',
  edge: 'jp-ExecutorlabGraph-edge',
  arrow: 'jp-ExecutorlabGraph-arrow',
  selected: 'jp-mod-selected',
  highlighted: 'jp-mod-highlighted'
};

/** Group nodes: where the state bar sits. */
const BAR = { inset: 8, height: 6, bottom: 8 };

const edgePath = line<IPoint>()
  .x(p => p.x)
  .y(p => p.y)
  .curve(curveBasis);

/** Layouts faster than this are never delayed. */
const MIN_THROTTLED_LAYOUT_MS = 50;

let instances = 0;

/**
 * Draws a `GraphModel` into an SVG: nodes, edges with arrowheads, zoom and
 * pan, click to select, double-click a group to expand it.
 *
 * Work happens only when the model changed and the renderer is active: a
 * structural change lays out and redraws (keyed joins, so nodes that stay are
 * reused); a state change only repaints the nodes concerned. Nothing runs per
 * frame while idle.
 */
export class GraphRenderer implements IDisposable {
  constructor(options: GraphRenderer.IOptions) {
    this._model = options.model;
    this._trans = options.trans ?? nullTranslator.load('executorlab');
    this._markerId = `jp-ExecutorlabGraph-arrow-${++instances}`;

    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.classList.add(GRAPH_CLASS.canvas);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', this._trans.__('Task dependency graph'));
    svg.innerHTML =
      `<defs><marker id="${this._markerId}" viewBox="0 0 10 10" refX="9" refY="5" ` +
      'markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" orient="auto">' +
      `<path class="${GRAPH_CLASS.arrow}" d="M0,0L10,5L0,10z"/></marker></defs>` +
      `<g class="${GRAPH_CLASS.viewport}"><g class="${GRAPH_CLASS.edges}"></g>` +
      `<g class="${GRAPH_CLASS.nodes}"></g></g>`;
    options.container.appendChild(svg);
    this.svg = svg;
    this._svg = select(svg);
    this._viewport = this._svg.select<SVGGElement>(`g.${GRAPH_CLASS.viewport}`);
    this._edgeLayer = this._svg.select<SVGGElement>(`g.${GRAPH_CLASS.edges}`);
    this._nodeLayer = this._svg.select<SVGGElement>(`g.${GRAPH_CLASS.nodes}`);

    this._zoom = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.02, 4])
      .extent(() => {
        const { width, height } = this._size();
        return [
          [0, 0],
          [width || 1, height || 1]
        ];
      })
      .on('zoom', event => {
        this._viewport.attr('transform', (event.transform as ZoomTransform).toString());
        if (event.sourceEvent) {
          // The user moved the view: stop fitting it automatically.
          this._autoFit = false;
        }
      });
    this._svg.call(this._zoom).on('dblclick.zoom', null);

    svg.addEventListener('click', this._onClick);
    svg.addEventListener('dblclick', this._onDblClick);
    this._model.changed.connect(this._onModelChanged, this);
    this._model.selectionChanged.connect(this._onSelectionChanged, this);
    this._needsLayout = true;
  }

  readonly svg: SVGSVGElement;

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Whether changes are drawn (on the next animation frame). Inactive, the
   * renderer only remembers what is stale.
   */
  get active(): boolean {
    return this._active;
  }

  set active(value: boolean) {
    if (value === this._active) {
      return;
    }
    this._active = value;
    if (value) {
      this._schedule();
    } else {
      this._cancelFrame();
    }
  }

  /** Whether the view follows the graph (until the user zooms or pans; `fit()` turns it back on). */
  get autoFit(): boolean {
    return this._autoFit;
  }

  /** Whether `render` has work to do. */
  get isStale(): boolean {
    return this._needsLayout || this._dirty.size > 0 || this._selectionStale;
  }

  /**
   * Draw pending changes now (whether active or not).
   */
  render(): void {
    this._cancelFrame();
    if (this._needsLayout) {
      const start = performance.now();
      this._needsLayout = false;
      this._dirty.clear();
      this._draw(this._model.layout());
      if (this._autoFit) {
        this.fit();
      }
      // Tasks may stream in faster than a large graph lays out: leave the main
      // thread at least as long as this layout took before the next one.
      const end = performance.now();
      const spent = end - start;
      this._nextLayoutAt = spent > MIN_THROTTLED_LAYOUT_MS ? end + spent : 0;
    } else if (this._dirty.size) {
      for (const id of this._dirty) {
        const el = this._elements.get(id);
        const node = this._model.getNode(id);
        if (el && node) {
          this._paint(el, node);
        }
      }
      this._dirty.clear();
    }
    this._applySelection();
  }

  /**
   * Zoom and pan so the whole graph shows; keeps fitting on later changes until
   * the user zooms or pans.
   */
  fit(): void {
    this._autoFit = true;
    const layout = this._layout;
    const { width, height } = this._size();
    if (!layout || !layout.width || !layout.height || !width || !height) {
      return;
    }
    const k = Math.max(
      0.02,
      Math.min(1.5, 0.95 * Math.min(width / layout.width, height / layout.height))
    );
    const x = (width - layout.width * k) / 2;
    const y = Math.max(0, (height - layout.height * k) / 2);
    this._svg.call(this._zoom.transform, zoomIdentity.translate(x, y).scale(k));
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._cancelFrame();
    this._model.changed.disconnect(this._onModelChanged, this);
    this._model.selectionChanged.disconnect(this._onSelectionChanged, this);
    this.svg.removeEventListener('click', this._onClick);
    this.svg.removeEventListener('dblclick', this._onDblClick);
    this._svg.on('.zoom', null);
    this.svg.remove();
    this._elements.clear();
    this._edgesOf.clear();
  }

  private _size(): { width: number; height: number } {
    return { width: this.svg.clientWidth, height: this.svg.clientHeight };
  }

  private _onModelChanged(_: GraphModel, change: IGraphChange): void {
    if (change.structural) {
      this._needsLayout = true;
    } else if (!this._needsLayout) {
      for (const id of change.nodes) {
        this._dirty.add(id);
      }
    }
    this._schedule();
  }

  private _onSelectionChanged(): void {
    this._selectionStale = true;
    if (this._active && !this._needsLayout) {
      this._applySelection();
    } else {
      this._schedule();
    }
  }

  private _schedule(): void {
    if (!this._active || this._frame !== null || this._timer !== null || !this.isStale) {
      return;
    }
    const wait = this._needsLayout ? this._nextLayoutAt - performance.now() : 0;
    if (wait > 0) {
      this._timer = setTimeout(() => {
        this._timer = null;
        this._schedule();
      }, wait);
      return;
    }
    this._frame = requestFrame(() => {
      this._frame = null;
      this.render();
    });
  }

  private _cancelFrame(): void {
    if (this._frame !== null) {
      cancelFrame(this._frame);
      this._frame = null;
    }
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  /**
   * Full draw after a layout: keyed joins reuse the elements of nodes and edges that stay.
   */
  private _draw(layout: IGraphLayout): void {
    this._layout = layout;
    const model = this._model;
    const marker = `url(#${this._markerId})`;

    const edges = this._edgeLayer
      .selectAll<SVGPathElement, IEdgeLayout>(`path.${GRAPH_CLASS.edge}`)
      .data([...layout.edges.values()], d => d.id)
      .join(enter =>
        enter
          .append('path')
          .attr('class', GRAPH_CLASS.edge)
          .attr('marker-end', marker)
          .attr('data-source', d => d.source)
          .attr('data-target', d => d.target)
      )
      .attr('d', d => edgePath(d.points as IPoint[]) ?? '');

    this._edgesOf.clear();
    edges.each((d, i, group) => {
      const el = group[i];
      el.classList.remove(GRAPH_CLASS.highlighted);
      for (const id of [d.source, d.target]) {
        let list = this._edgesOf.get(id);
        if (!list) {
          list = [];
          this._edgesOf.set(id, list);
        }
        list.push(el);
      }
    });

    const nodes = this._nodeLayer
      .selectAll<SVGGElement, IGraphNode>(`g.${GRAPH_CLASS.node}`)
      .data(model.nodes as IGraphNode[], d => d.id)
      .join(enter => {
        const g = enter
          .append('g')
          .attr('class', d =>
            d.kind === 'group' ? `${GRAPH_CLASS.node} ${GRAPH_CLASS.group}` : GRAPH_CLASS.node
          )
          .attr('data-node-id', d => d.id)
          .attr('data-task-id', d => (d.kind === 'task' ? d.id : null))
          .attr('data-fn-name', d => d.label)
          .attr('data-group', d => (d.kind === 'group' ? d.id : null));
        g.append('title');
        g.append('rect').attr('class', GRAPH_CLASS.shape).attr('rx', 6).attr('ry', 6);
        g.append('text').attr('class', GRAPH_CLASS.label).attr('text-anchor', 'middle');
        const groups = g.filter(d => d.kind === 'group');
        groups.append('text').attr('class', GRAPH_CLASS.count).attr('text-anchor', 'middle');
        const bars = groups.append('g').attr('class', `${GRAPH_CLASS.bar}s`);
        bars.append('rect').attr('class', `${GRAPH_CLASS.bar}Track`).attr('height', BAR.height);
        for (const state of TASK_STATES) {
          bars
            .append('rect')
            .attr('class', GRAPH_CLASS.bar)
            .attr('data-state', state)
            .attr('height', BAR.height);
        }
        return g;
      });

    this._elements.clear();
    nodes.each((d, i, group) => {
      const el = group[i];
      const box = layout.nodes.get(d.id);
      if (!box) {
        return;
      }
      el.classList.remove(GRAPH_CLASS.selected);
      this._elements.set(d.id, el);
      const w = box.width;
      const h = box.height;
      el.setAttribute('transform', `translate(${box.x - w / 2},${box.y - h / 2})`);
      const rect = el.children[1] as SVGRectElement;
      rect.setAttribute('width', String(w));
      rect.setAttribute('height', String(h));
      const label = el.children[2] as SVGTextElement;
      label.setAttribute('x', String(w / 2));
      label.setAttribute('y', String(d.kind === 'group' ? 16 : h / 2));
      label.setAttribute('dy', '0.35em');
      label.textContent = fitLabel(d.label);
      if (d.kind === 'group') {
        const count = el.children[3] as SVGTextElement;
        count.setAttribute('x', String(w / 2));
        count.setAttribute('y', '30');
        count.setAttribute('dy', '0.35em');
      }
      this._paint(el, d, w);
    });
    this._selectionStale = true;
  }

  /**
   * What changes with task states: `data-state`, the tooltip, a group's count and bar.
   */
  private _paint(el: SVGGElement, node: IGraphNode, width?: number): void {
    el.setAttribute('data-state', node.state);
    if (node.cacheHit) {
      el.setAttribute('data-cache-hit', 'true');
    } else {
      el.removeAttribute('data-cache-hit');
    }
    const trans = this._trans;
    const title = el.firstElementChild as SVGTitleElement;
    if (node.kind === 'task') {
      title.textContent = `${node.label} · ${stateLabel(node.state, trans)}${
        node.cacheHit ? ` · ${trans.__('from cache')}` : ''
      }\n${node.id}`;
      return;
    }
    const n = node.taskIds.length;
    el.setAttribute('data-count', String(n));
    const breakdown = TASK_STATES.filter(state => node.counts[state] > 0)
      .map(state => `${stateLabel(state, trans)}: ${node.counts[state]}`)
      .join(', ');
    title.textContent = `${node.label} · ${trans._n('%1 task', '%1 tasks', n)}\n${breakdown}\n${trans.__(
      'Double-click to expand'
    )}`;
    (el.children[3] as SVGTextElement).textContent = trans._n('%1 task', '%1 tasks', n);
    const w =
      width ?? Number((el.children[1] as SVGRectElement).getAttribute('width') ?? 0);
    const h = Number((el.children[1] as SVGRectElement).getAttribute('height') ?? 0);
    const span = Math.max(0, w - 2 * BAR.inset);
    let x = BAR.inset;
    const y = String(h - BAR.bottom - BAR.height);
    const bars = el.children[4].children;
    const track = bars[0] as SVGRectElement;
    track.setAttribute('x', String(x));
    track.setAttribute('y', y);
    track.setAttribute('width', String(span));
    TASK_STATES.forEach((state, i) => {
      const rect = bars[i + 1] as SVGRectElement;
      const part = n ? (span * node.counts[state]) / n : 0;
      rect.setAttribute('x', String(x));
      rect.setAttribute('y', y);
      rect.setAttribute('width', String(part));
      x += part;
    });
  }

  private _applySelection(): void {
    this._selectionStale = false;
    for (const el of this._highlighted) {
      el.classList.remove(GRAPH_CLASS.selected, GRAPH_CLASS.highlighted);
    }
    this._highlighted = [];
    const selected = this._model.selected;
    if (selected === null) {
      return;
    }
    const id = this._model.getNode(selected) ? selected : this._model.nodeIdOf(selected);
    const el = id === undefined ? undefined : this._elements.get(id);
    if (!el || id === undefined) {
      return;
    }
    el.classList.add(GRAPH_CLASS.selected);
    this._highlighted.push(el);
    for (const edge of this._edgesOf.get(id) ?? []) {
      edge.classList.add(GRAPH_CLASS.highlighted);
      this._highlighted.push(edge);
    }
  }

  private _nodeIdAt(target: EventTarget | null): string | null {
    const el =
      target instanceof Element
        ? target.closest<SVGGElement>(`g.${GRAPH_CLASS.node}`)
        : null;
    return el?.getAttribute('data-node-id') ?? null;
  }

  private _onClick = (event: MouseEvent): void => {
    if (event.defaultPrevented) {
      return;
    }
    this._model.select(this._nodeIdAt(event.target));
  };

  private _onDblClick = (event: MouseEvent): void => {
    const id = this._nodeIdAt(event.target);
    if (id !== null && this._model.getNode(id)?.kind === 'group') {
      event.preventDefault();
      this._model.expand(id);
    }
  };

  private _model: GraphModel;
  private _trans: TranslationBundle;
  private _markerId: string;
  private _svg: Selection<SVGSVGElement, unknown, null, undefined>;
  private _viewport: Selection<SVGGElement, unknown, null, undefined>;
  private _edgeLayer: Selection<SVGGElement, unknown, null, undefined>;
  private _nodeLayer: Selection<SVGGElement, unknown, null, undefined>;
  private _zoom: ZoomBehavior<SVGSVGElement, unknown>;
  private _layout: IGraphLayout | null = null;
  private _elements = new Map<string, SVGGElement>();
  private _edgesOf = new Map<string, SVGPathElement[]>();
  private _highlighted: Element[] = [];
  private _dirty = new Set<string>();
  private _needsLayout = false;
  private _selectionStale = false;
  private _autoFit = true;
  private _active = false;
  private _frame: number | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _nextLayoutAt = 0;
  private _isDisposed = false;
}

export namespace GraphRenderer {
  export interface IOptions {
    model: GraphModel;
    /** The SVG is appended to it. */
    container: HTMLElement;
    trans?: TranslationBundle;
  }
}

function requestFrame(callback: () => void): number {
  if (typeof requestAnimationFrame === 'function') {
    return requestAnimationFrame(callback);
  }
  return setTimeout(callback, 16) as unknown as number;
}

function cancelFrame(handle: number): void {
  if (typeof cancelAnimationFrame === 'function') {
    cancelAnimationFrame(handle);
  } else {
    clearTimeout(handle);
  }
}
