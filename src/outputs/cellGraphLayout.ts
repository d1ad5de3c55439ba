import { graphlib, layout as dagreLayout } from '@dagrejs/dagre';

import { fitLabel, IPoint, NODE_SIZE, nodeWidth } from '../graph/model';
import { ICellGraphData, ICellGraphEdge, ICellGraphNode } from '../tokens';

/**
 * A node placed by dagre; `x`, `y` are its centre.
 */
export interface ICellGraphNodeLayout {
  /** The payload's id as text. */
  readonly key: string;
  readonly node: ICellGraphNode;
  /** Input values are drawn as ellipses, everything else as boxes. */
  readonly shape: 'box' | 'ellipse';
  /** The label as drawn (cut to the widest box). */
  readonly text: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface ICellGraphEdgeLayout {
  readonly index: number;
  readonly source: string;
  readonly target: string;
  readonly edge: ICellGraphEdge;
  /** The label as drawn; empty for none. */
  readonly text: string;
  /** Where the label's centre goes. */
  readonly labelAt: IPoint | null;
  /** From the source's border to the target's border. */
  readonly points: readonly IPoint[];
}

export interface ICellGraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly ICellGraphNodeLayout[];
  readonly edges: readonly ICellGraphEdgeLayout[];
}

/** Edge labels: estimated glyph width and line height (the layout has no DOM). */
const EDGE_LABEL = { charWidth: 6.5, padding: 8, height: 14 };

/** Input nodes are ellipses, narrower at their ends than boxes. */
const INPUT_MIN_WIDTH = 60;

/** Above this many nodes, dagre's network-simplex ranker gets too slow. */
const NETWORK_SIMPLEX_LIMIT = 100;

/**
 * The text on an edge: the argument it feeds, after the part of the source's
 * result it takes (`[0] → x`) when it takes a part.
 */
export function edgeText(edge: ICellGraphEdge): string {
  const label = edge.label ?? '';
  if (edge.source_label === null || edge.source_label === '') {
    return label;
  }
  return label ? `[${edge.source_label}] → ${label}` : `[${edge.source_label}]`;
}

/**
 * Lay out a validated graph payload with dagre, top to bottom (data flows down).
 */
export function layoutCellGraph(data: ICellGraphData): ICellGraphLayout {
  const g = new graphlib.Graph({ multigraph: true });
  g.setGraph({
    rankdir: 'TB',
    nodesep: 24,
    ranksep: 40,
    edgesep: 12,
    marginx: 12,
    marginy: 12,
    ranker: data.nodes.length > NETWORK_SIMPLEX_LIMIT ? 'tight-tree' : 'network-simplex'
  });
  for (const node of data.nodes) {
    const shape = node.kind === 'input' ? 'ellipse' : 'box';
    const width = nodeWidth(node.label);
    g.setNode(String(node.id), {
      width: shape === 'ellipse' ? Math.max(INPUT_MIN_WIDTH, width - NODE_SIZE.padding / 2) : width,
      height: NODE_SIZE.taskHeight
    });
  }
  const texts = data.edges.map(edgeText);
  data.edges.forEach((edge, i) => {
    const text = texts[i];
    g.setEdge(
      String(edge.source),
      String(edge.target),
      text
        ? {
            width: text.length * EDGE_LABEL.charWidth + EDGE_LABEL.padding,
            height: EDGE_LABEL.height,
            labelpos: 'c'
          }
        : {},
      String(i)
    );
  });
  dagreLayout(g);

  const nodes: ICellGraphNodeLayout[] = data.nodes.map(node => {
    const key = String(node.id);
    const box = g.node(key);
    return {
      key,
      node,
      shape: node.kind === 'input' ? 'ellipse' : 'box',
      text: fitLabel(node.label),
      x: box.x ?? 0,
      y: box.y ?? 0,
      width: box.width,
      height: box.height
    };
  });
  const byKey = new Map(nodes.map(n => [n.key, n]));
  const edges: ICellGraphEdgeLayout[] = data.edges.map((edge, index) => {
    const source = String(edge.source);
    const target = String(edge.target);
    const label = g.edge({ v: source, w: target, name: String(index) });
    const points = (label?.points ?? []).map((p: IPoint) => ({ x: p.x, y: p.y }));
    clipToEllipse(points, byKey.get(source), 0);
    clipToEllipse(points, byKey.get(target), points.length - 1);
    const text = texts[index];
    return {
      index,
      source,
      target,
      edge,
      text,
      labelAt:
        text && typeof label?.x === 'number' && typeof label?.y === 'number'
          ? { x: label.x, y: label.y }
          : null,
      points
    };
  });
  const graph = g.graph();
  return {
    width: nodes.length ? (graph.width ?? 0) : 0,
    height: nodes.length ? (graph.height ?? 0) : 0,
    nodes,
    edges
  };
}

/**
 * dagre ends edges on a node's bounding box; move the end at `at` onto the
 * ellipse of an input node, along the line to its neighbouring point.
 */
function clipToEllipse(points: IPoint[], node: ICellGraphNodeLayout | undefined, at: number): void {
  if (!node || node.shape !== 'ellipse' || points.length < 2) {
    return;
  }
  const towards = points[at === 0 ? 1 : points.length - 2];
  const dx = towards.x - node.x;
  const dy = towards.y - node.y;
  const rx = node.width / 2;
  const ry = node.height / 2;
  const k = Math.hypot(dx / rx, dy / ry);
  if (k <= 1) {
    return; // the neighbour lies inside the ellipse: leave the route as it is
  }
  points[at] = { x: node.x + dx / k, y: node.y + dy / k };
}
