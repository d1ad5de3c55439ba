import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { afterEach, describe, expect, it } from 'vitest';

import { edgeText, layoutCellGraph } from '../src/outputs/cellGraphLayout';
import { CELL_GRAPH_MAX_HEIGHT, CellGraphRenderer } from '../src/outputs/CellGraphRenderer';
import { parseGraphData } from '../src/outputs/payload';
import { GRAPH_MIME_TYPE, ICellGraphData } from '../src/tokens';

/** `add(x=1, y=mul(2, 3))` and `total(sum([add(...), 4]))`, as executorlib's plot mode sends it. */
function payload(): ICellGraphData {
  return {
    version: 1,
    nodes: [
      { id: 0, kind: 'function', label: 'add', value: '__main__.add' },
      { id: 1, kind: 'input', label: '1', value: '1' },
      { id: 2, kind: 'function', label: 'mul', value: '__main__.mul' },
      { id: 3, kind: 'input', label: '2', value: '2' },
      { id: 4, kind: 'input', label: '3', value: '3' },
      { id: 5, kind: 'list', label: 'list', value: '[add(...), 4]' },
      { id: 6, kind: 'input', label: '4', value: '4' },
      { id: 7, kind: 'function', label: 'total', value: '__main__.total' }
    ],
    edges: [
      { source: 1, target: 0, label: 'x', source_label: null },
      { source: 2, target: 0, label: 'y', source_label: null },
      { source: 3, target: 2, label: 'a', source_label: null },
      { source: 4, target: 2, label: 'b', source_label: null },
      { source: 0, target: 5, label: '0', source_label: null },
      { source: 6, target: 5, label: '1', source_label: null },
      { source: 5, target: 7, label: 'values', source_label: '0' }
    ]
  };
}

function mimeModel(data: unknown) {
  return {
    trusted: true,
    data: { [GRAPH_MIME_TYPE]: data, 'image/svg+xml': '<svg/>', 'text/plain': 'graph' },
    metadata: {},
    setData: () => undefined
  } as any;
}

let renderer: CellGraphRenderer | null = null;

afterEach(() => {
  renderer?.dispose();
  renderer = null;
});

async function show(data: unknown): Promise<CellGraphRenderer> {
  renderer = new CellGraphRenderer({ translator: nullTranslator });
  await renderer.renderModel(mimeModel(data));
  Widget.attach(renderer, document.body);
  return renderer;
}

describe('parseGraphData', () => {
  it('accepts the plot payload', () => {
    const parsed = parseGraphData(payload());
    expect(parsed.ok).toBe(true);
  });

  it('says what is wrong with a malformed payload', () => {
    const error = (value: unknown) => {
      const parsed = parseGraphData(value);
      return parsed.ok ? null : parsed.error;
    };
    expect(error('graph')).toBe('the graph data is not an object');
    expect(error({ ...payload(), version: 7 })).toBe('unsupported graph data version 7');
    expect(error({ version: 1, nodes: [] })).toBe('the graph data needs the lists "nodes" and "edges"');
    expect(error({ version: 1, nodes: [{ kind: 'input' }], edges: [] })).toBe('node 0 has no id');
    expect(
      error({ version: 1, nodes: [{ id: 1, kind: 'input', label: 'a' }, { id: 1, kind: 'input', label: 'b' }], edges: [] })
    ).toBe('node id 1 occurs twice');
    expect(error({ version: 1, nodes: [{ id: 1, label: 'a' }], edges: [] })).toBe('node 1 has no kind');
    expect(
      error({ version: 1, nodes: [{ id: 1, kind: 'input', label: 'a' }], edges: [{ source: 1, target: 9 }] })
    ).toBe('edge 0 joins a node that is not in the graph');
  });
});

describe('layoutCellGraph', () => {
  it('places every node and routes every edge, data flowing downwards', () => {
    const layout = layoutCellGraph(payload());
    expect(layout.nodes).toHaveLength(8);
    expect(layout.edges).toHaveLength(7);
    const y = (key: string) => layout.nodes.find(n => n.key === key)!.y;
    expect(y('1')).toBeLessThan(y('0'));
    expect(y('3')).toBeLessThan(y('2'));
    expect(y('2')).toBeLessThan(y('0'));
    expect(y('5')).toBeLessThan(y('7'));
    for (const edge of layout.edges) {
      expect(edge.points.length).toBeGreaterThanOrEqual(2);
    }
    expect(layout.nodes.find(n => n.key === '1')!.shape).toBe('ellipse');
    expect(layout.nodes.find(n => n.key === '0')!.shape).toBe('box');
    expect(layout.width).toBeGreaterThan(0);
    expect(layout.height).toBeGreaterThan(0);
  });

  it('keeps parallel edges between the same nodes apart', () => {
    const layout = layoutCellGraph({
      version: 1,
      nodes: [
        { id: 'a', kind: 'input', label: '5', value: '5' },
        { id: 'f', kind: 'function', label: 'pow', value: 'math.pow' }
      ],
      edges: [
        { source: 'a', target: 'f', label: 'x', source_label: null },
        { source: 'a', target: 'f', label: 'y', source_label: null }
      ]
    });
    expect(layout.edges.map(e => e.text)).toEqual(['x', 'y']);
    expect(layout.edges[0].labelAt).not.toEqual(layout.edges[1].labelAt);
  });

  it('labels an edge with the part of the result it takes', () => {
    expect(edgeText({ source: 0, target: 1, label: 'x', source_label: null })).toBe('x');
    expect(edgeText({ source: 0, target: 1, label: 'x', source_label: '0' })).toBe('[0] → x');
    expect(edgeText({ source: 0, target: 1, label: null, source_label: 'key' })).toBe('[key]');
    expect(edgeText({ source: 0, target: 1, label: null, source_label: null })).toBe('');
  });
});

describe('CellGraphRenderer', () => {
  it('draws nodes by kind, edges with arrowheads and labels, and tooltips', async () => {
    const view = await show(payload());
    const root = view.node;
    expect(root.classList.contains('jp-executorlab-CellGraph')).toBe(true);
    const nodes = root.querySelectorAll('.jp-executorlab-CellGraph-node');
    expect(nodes).toHaveLength(8);
    expect(root.querySelectorAll('.jp-executorlab-CellGraph-node[data-kind="function"]')).toHaveLength(3);
    expect(root.querySelectorAll('.jp-executorlab-CellGraph-node[data-kind="input"]')).toHaveLength(4);
    expect(root.querySelectorAll('.jp-executorlab-CellGraph-node[data-kind="list"]')).toHaveLength(1);
    expect(root.querySelectorAll('.jp-executorlab-CellGraph-node[data-kind="input"] > ellipse')).toHaveLength(4);
    expect(root.querySelectorAll('.jp-executorlab-CellGraph-node[data-kind="function"] > rect')).toHaveLength(3);

    const add = root.querySelector('.jp-executorlab-CellGraph-node[data-node-id="0"]')!;
    expect(add.querySelector('title')?.textContent).toBe('__main__.add');
    expect(add.querySelector('text')?.textContent).toBe('add');

    const edges = root.querySelectorAll<SVGPathElement>('.jp-executorlab-CellGraph-edge');
    expect(edges).toHaveLength(7);
    for (const edge of edges) {
      expect(edge.getAttribute('d')).toMatch(/^M/);
      expect(edge.getAttribute('marker-end')).toMatch(/^url\(#jp-executorlab-CellGraph-arrow-\d+\)$/);
    }
    const labels = [...root.querySelectorAll('.jp-executorlab-CellGraph-edgeLabel')].map(l => l.textContent);
    expect(labels).toContain('x');
    expect(labels).toContain('[0] → values');
    expect(root.querySelector('.jp-executorlab-CellGraph-error')).toBeNull();
  });

  it('is as tall as its graph up to the maximum, and Fit restores the view', async () => {
    const view = await show(payload());
    const svg = view.node.querySelector<SVGSVGElement>('svg.jp-executorlab-CellGraph-canvas')!;
    const height = parseFloat(svg.style.height);
    expect(height).toBeGreaterThan(0);
    expect(height).toBeLessThanOrEqual(CELL_GRAPH_MAX_HEIGHT);

    const long = {
      version: 1,
      nodes: Array.from({ length: 30 }, (_, i) => ({ id: i, kind: 'function', label: `f${i}`, value: null })),
      edges: Array.from({ length: 29 }, (_, i) => ({ source: i, target: i + 1, label: 'x', source_label: null }))
    };
    await view.renderModel(mimeModel(long));
    const tall = view.node.querySelector<SVGSVGElement>('svg.jp-executorlab-CellGraph-canvas')!;
    expect(parseFloat(tall.style.height)).toBe(CELL_GRAPH_MAX_HEIGHT);
    const viewport = tall.querySelector('.jp-executorlab-CellGraph-viewport')!;
    // Zoomed out to fit the height.
    const scale = Number(/scale\(([\d.]+)\)/.exec(viewport.getAttribute('transform') ?? '')?.[1]);
    expect(scale).toBeLessThan(1);

    viewport.setAttribute('transform', 'translate(5,5) scale(2)');
    const fit = view.node.querySelector<HTMLButtonElement>('button.jp-executorlab-CellGraph-fit')!;
    expect(fit.textContent).toBe('Fit');
    fit.click();
    expect(viewport.getAttribute('transform')).toMatch(/scale\(0\.\d+\)/);
    expect(view.autoFit).toBe(true);
  });

  it('renders a one-line error instead of throwing on malformed data', async () => {
    const view = await show({ version: 1, nodes: [{ id: 0, kind: 'function', label: 'f' }], edges: [{ source: 0, target: 3 }] });
    const error = view.node.querySelector('.jp-executorlab-CellGraph-error');
    expect(error?.textContent).toBe(
      'Cannot draw the dependency graph: edge 0 joins a node that is not in the graph'
    );
    expect(view.node.querySelector('svg')).toBeNull();
    expect(view.error).not.toBeNull();

    // A later valid payload replaces the error.
    await view.renderModel(mimeModel(payload()));
    expect(view.node.querySelector('.jp-executorlab-CellGraph-error')).toBeNull();
    expect(view.node.querySelectorAll('.jp-executorlab-CellGraph-node')).toHaveLength(8);
  });

  it('renders an error for a payload that is not JSON data at all', async () => {
    const view = await show(undefined);
    expect(view.node.querySelector('.jp-executorlab-CellGraph-error')?.textContent).toContain(
      'the graph data is not an object'
    );
  });
});
