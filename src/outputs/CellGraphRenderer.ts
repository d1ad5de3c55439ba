import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { ITranslator, nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { select, Selection } from 'd3-selection';
import { curveBasis, line } from 'd3-shape';
import { D3ZoomEvent, zoom, ZoomBehavior, zoomIdentity } from 'd3-zoom';

import { IPoint } from '../graph/model';
import { GRAPH_MIME_TYPE } from '../tokens';
import { ICellGraphLayout, layoutCellGraph } from './cellGraphLayout';
import { parseGraphData } from './payload';

const SVG_NS = 'http://www.w3.org/2000/svg';

export const CELL_GRAPH_CLASS = {
  root: 'jp-executorlab-CellGraph',
  toolbar: 'jp-executorlab-CellGraph-toolbar',
  fit: 'jp-executorlab-CellGraph-fit',
  canvas: 'jp-executorlab-CellGraph-canvas',
  viewport: 'jp-executorlab-CellGraph-viewport',
  node: 'jp-executorlab-CellGraph-node',
  shape: 'jp-executorlab-CellGraph-nodeShape',
  label: 'jp-executorlab-CellGraph-label',
  edge: 'jp-executorlab-CellGraph-edge',
  edgeLabel: 'jp-executorlab-CellGraph-edgeLabel',
  arrow: 'jp-executorlab-CellGraph-arrow',
  error: 'jp-executorlab-CellGraph-error'
};

/** The view grows with its graph up to this height (CSS pixels), then zooms out. */
export const CELL_GRAPH_MAX_HEIGHT = 420;
/** Nor does it shrink below this. */
const MIN_HEIGHT = 48;
/** Fitting never zooms in beyond the natural size, nor out beyond this. */
const MIN_FIT_SCALE = 0.2;

const edgePath = line<IPoint>()
  .x(p => p.x)
  .y(p => p.y)
  .curve(curveBasis);

let instances = 0;

/**
 * Renders `application/vnd.executorlab.graph+json`: the dependency graph of
 * executorlib's plot mode, laid out by dagre and drawn in SVG with d3. Drag pans,
 * Ctrl (⌘) + wheel or a pinch zooms (a plain wheel scrolls the notebook), "Fit"
 * shows it all again. The view is as tall as the graph up to
 * `CELL_GRAPH_MAX_HEIGHT`. A malformed payload renders a one-line error.
 */
export class CellGraphRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: CellGraphRenderer.IOptions = {}) {
    super();
    this._trans = (options.translator ?? nullTranslator).load('executorlab');
    this._markerId = `jp-executorlab-CellGraph-arrow-${++instances}`;
    this.addClass(CELL_GRAPH_CLASS.root);
  }

  /** The laid-out graph; null before a valid payload was rendered. */
  get graphLayout(): ICellGraphLayout | null {
    return this._graph;
  }

  /** Why the payload could not be drawn; null when it was. */
  get error(): string | null {
    return this._error;
  }

  /** Whether the view follows size changes (until the user zooms or pans; `fit()` turns it back on). */
  get autoFit(): boolean {
    return this._autoFit;
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._clear();
    const parsed = parseGraphData(model.data[GRAPH_MIME_TYPE]);
    if (!parsed.ok) {
      this._showError(parsed.error);
      return Promise.resolve();
    }
    try {
      this._graph = layoutCellGraph(parsed.value);
    } catch (reason) {
      this._showError(reason instanceof Error ? reason.message : String(reason));
      return Promise.resolve();
    }
    this._draw(this._graph);
    if (this.isAttached) {
      this.fit();
    }
    return Promise.resolve();
  }

  /**
   * Size the view to the graph (up to the maximum height) and show all of it;
   * later width changes refit until the user zooms or pans.
   */
  fit(): void {
    this._autoFit = true;
    const layout = this._graph;
    const svg = this._svg;
    if (!layout || !svg || !this._zoom) {
      return;
    }
    const available = svg.node()!.clientWidth;
    const width = layout.width || 1;
    const height = layout.height || 1;
    let k = Math.min(1, CELL_GRAPH_MAX_HEIGHT / height);
    if (available > 0) {
      k = Math.min(k, available / width);
    }
    k = Math.max(MIN_FIT_SCALE, k);
    const viewHeight = Math.max(MIN_HEIGHT, Math.min(CELL_GRAPH_MAX_HEIGHT, Math.ceil(height * k)));
    svg.style('height', `${viewHeight}px`);
    const x = available > 0 ? Math.max(0, (available - width * k) / 2) : 0;
    const y = Math.max(0, (viewHeight - height * k) / 2);
    this._fitting = true;
    svg.call(this._zoom.transform, zoomIdentity.translate(x, y).scale(k));
    this._fitting = false;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._clear();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (typeof ResizeObserver === 'function' && !this._observer) {
      this._observer = new ResizeObserver(() => {
        const width = this.node.clientWidth;
        if (width !== this._observedWidth) {
          this._observedWidth = width;
          if (this._autoFit) {
            this.fit();
          }
        }
      });
      this._observer.observe(this.node);
    }
    this.fit();
  }

  protected onBeforeDetach(msg: Message): void {
    this._observer?.disconnect();
    this._observer = null;
    super.onBeforeDetach(msg);
  }

  private _showError(message: string): void {
    const error = document.createElement('div');
    error.className = CELL_GRAPH_CLASS.error;
    error.setAttribute('role', 'alert');
    error.textContent = this._trans.__('Cannot draw the dependency graph: %1', message);
    this._error = message;
    this.node.appendChild(error);
  }

  private _clear(): void {
    this._svg?.on('.zoom', null);
    this._svg = null;
    this._zoom = null;
    this._graph = null;
    this._error = null;
    this.node.textContent = '';
  }

  private _draw(layout: ICellGraphLayout): void {
    const trans = this._trans;
    const toolbar = document.createElement('div');
    toolbar.className = CELL_GRAPH_CLASS.toolbar;
    const fit = document.createElement('button');
    fit.type = 'button';
    fit.className = `${CELL_GRAPH_CLASS.fit} jp-mod-styled`;
    fit.textContent = trans.__('Fit');
    fit.title = trans.__('Zoom to show the whole graph');
    fit.addEventListener('click', () => this.fit());
    toolbar.appendChild(fit);

    const svgNode = document.createElementNS(SVG_NS, 'svg');
    svgNode.classList.add(CELL_GRAPH_CLASS.canvas);
    svgNode.setAttribute('role', 'img');
    svgNode.setAttribute(
      'aria-label',
      trans.__(
        'Dependency graph: %1, %2',
        trans._n('%1 node', '%1 nodes', layout.nodes.length),
        trans._n('%1 edge', '%1 edges', layout.edges.length)
      )
    );
    svgNode.style.height = `${Math.max(MIN_HEIGHT, Math.min(CELL_GRAPH_MAX_HEIGHT, Math.ceil(layout.height)))}px`;
    this.node.title = trans.__('Drag to pan, Ctrl + wheel to zoom');
    this.node.append(toolbar, svgNode);

    const svg = select(svgNode);
    svg
      .append('defs')
      .append('marker')
      .attr('id', this._markerId)
      .attr('viewBox', '0 0 10 10')
      .attr('refX', 9)
      .attr('refY', 5)
      .attr('markerWidth', 7)
      .attr('markerHeight', 7)
      .attr('markerUnits', 'userSpaceOnUse')
      .attr('orient', 'auto')
      .append('path')
      .attr('class', CELL_GRAPH_CLASS.arrow)
      .attr('d', 'M0,0L10,5L0,10z');
    const viewport = svg.append('g').attr('class', CELL_GRAPH_CLASS.viewport);

    viewport
      .append('g')
      .selectAll('path')
      .data(layout.edges)
      .join('path')
      .attr('class', CELL_GRAPH_CLASS.edge)
      .attr('data-source', d => d.source)
      .attr('data-target', d => d.target)
      .attr('data-label', d => d.text || null)
      .attr('marker-end', `url(#${this._markerId})`)
      .attr('d', d => edgePath(d.points as IPoint[]) ?? '');

    const nodes = viewport
      .append('g')
      .selectAll('g')
      .data(layout.nodes)
      .join('g')
      .attr('class', CELL_GRAPH_CLASS.node)
      .attr('data-node-id', d => d.key)
      .attr('data-kind', d => d.node.kind)
      .attr('transform', d => `translate(${d.x},${d.y})`);
    nodes.append('title').text(d => d.node.value ?? d.node.label);
    nodes
      .filter(d => d.shape === 'ellipse')
      .append('ellipse')
      .attr('class', CELL_GRAPH_CLASS.shape)
      .attr('rx', d => d.width / 2)
      .attr('ry', d => d.height / 2);
    nodes
      .filter(d => d.shape === 'box')
      .append('rect')
      .attr('class', CELL_GRAPH_CLASS.shape)
      .attr('x', d => -d.width / 2)
      .attr('y', d => -d.height / 2)
      .attr('width', d => d.width)
      .attr('height', d => d.height)
      .attr('rx', 6)
      .attr('ry', 6);
    nodes
      .append('text')
      .attr('class', CELL_GRAPH_CLASS.label)
      .attr('text-anchor', 'middle')
      .attr('dy', '0.35em')
      .text(d => d.text);

    // Edge labels above nodes and edges, so crossings never hide them.
    viewport
      .append('g')
      .selectAll('text')
      .data(layout.edges.filter(d => d.labelAt !== null))
      .join('text')
      .attr('class', CELL_GRAPH_CLASS.edgeLabel)
      .attr('text-anchor', 'middle')
      .attr('dy', '0.35em')
      .attr('x', d => d.labelAt!.x)
      .attr('y', d => d.labelAt!.y)
      .text(d => d.text);

    this._zoom = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.05, 4])
      .extent(() => [
        [0, 0],
        [svgNode.clientWidth || 1, svgNode.clientHeight || 1]
      ])
      // A plain wheel scrolls the notebook; Ctrl/⌘ + wheel (and a pinch) zooms.
      .filter(event =>
        event.type === 'wheel'
          ? event.ctrlKey || event.metaKey
          : (!event.ctrlKey || event.type === 'touchstart') && !event.button
      )
      .wheelDelta(event => {
        const step = event.deltaMode === 1 ? 0.05 : event.deltaMode ? 1 : 0.002;
        // A pinch arrives as small Ctrl + wheel steps; a mouse wheel's notches are large.
        return -event.deltaY * step * (Math.abs(event.deltaY) < 50 ? 5 : 1);
      })
      .on('zoom', (event: D3ZoomEvent<SVGSVGElement, unknown>) => {
        viewport.attr('transform', event.transform.toString());
        if (!this._fitting && event.sourceEvent) {
          this._autoFit = false;
        }
      });
    svg.call(this._zoom);
    this._svg = svg;
  }

  private _trans: TranslationBundle;
  private _markerId: string;
  private _graph: ICellGraphLayout | null = null;
  private _error: string | null = null;
  private _svg: Selection<SVGSVGElement, unknown, null, undefined> | null = null;
  private _zoom: ZoomBehavior<SVGSVGElement, unknown> | null = null;
  private _autoFit = true;
  private _fitting = false;
  private _observer: ResizeObserver | null = null;
  private _observedWidth = -1;
}

export namespace CellGraphRenderer {
  export interface IOptions {
    translator?: ITranslator;
  }
}
