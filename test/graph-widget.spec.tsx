import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { BridgeConnection } from '../src/bridge/connection';
import { layoutAndRender } from '../src/graph';
import { IGraphTask } from '../src/graph/model';
import { DEPENDENCY_GRAPH_ID, DependencyGraphWidget } from '../src/graph/widget';
import { TaskMonitorModel } from '../src/tasks/model';
import { ITaskView } from '../src/tokens';
import { FakeWebSocket, makeSettings, makeTask } from './helpers';

function diamond(): ITaskView[] {
  return [
    makeTask({ id: 'a', fn_name: 'load', state: 'done', dependencies: [] }),
    makeTask({ id: 'b', fn_name: 'left', state: 'running', dependencies: ['a'] }),
    makeTask({ id: 'c', fn_name: 'right', state: 'queued', dependencies: ['a'] }),
    makeTask({ id: 'd', fn_name: 'join', state: 'waiting', dependencies: ['b', 'c'] })
  ];
}

describe('DependencyGraphWidget', () => {
  let connection: BridgeConnection;
  let model: TaskMonitorModel;
  let widget: DependencyGraphWidget;

  function push(type: 'snapshot' | 'tasks', tasks: ITaskView[]): void {
    FakeWebSocket.last.push({ type, tasks });
  }

  function canvas(): SVGSVGElement {
    return widget.node.querySelector<SVGSVGElement>('svg.jp-ExecutorlabGraph-canvas')!;
  }

  function node(id: string): SVGGElement | null {
    return canvas().querySelector<SVGGElement>(`[data-task-id="${id}"]`);
  }

  beforeEach(() => {
    FakeWebSocket.reset();
    connection = new BridgeConnection({ serverSettings: makeSettings() });
    model = new TaskMonitorModel(connection);
  });

  afterEach(() => {
    widget.dispose();
    model.dispose();
    connection.dispose();
  });

  function open(nodeLimit?: number): void {
    widget = new DependencyGraphWidget({ model, translator: nullTranslator, nodeLimit });
    Widget.attach(widget, document.body);
  }

  it('is a main-area widget with a translated title', () => {
    open();
    expect(widget.id).toBe(DEPENDENCY_GRAPH_ID);
    expect(widget.title.label).toBe('Dependency Graph');
    expect(canvas()).not.toBeNull();
    expect(widget.node.textContent).toContain('No tasks yet.');
  });

  it('draws tasks as nodes carrying their state, and dependencies as arrows', () => {
    open();
    push('snapshot', diamond());
    widget.renderer.render();

    const nodes = canvas().querySelectorAll('.jp-ExecutorlabGraph-node');
    expect(nodes).toHaveLength(4);
    expect(node('a')?.dataset.state).toBe('done');
    expect(node('b')?.dataset.state).toBe('running');
    expect(node('d')?.dataset.state).toBe('waiting');
    expect(node('b')?.textContent).toContain('left');
    const edges = canvas().querySelectorAll<SVGPathElement>('path.jp-ExecutorlabGraph-edge');
    expect(edges).toHaveLength(4);
    for (const edge of edges) {
      expect(edge.getAttribute('d')).toMatch(/^M/);
      expect(edge.getAttribute('marker-end')).toMatch(/^url\(#/);
    }
    expect(widget.node.querySelector<HTMLElement>('.jp-ExecutorlabGraph-empty')!.hidden).toBe(
      true
    );
  });

  it('draws by itself on the next frame while shown', async () => {
    open();
    push('snapshot', diamond());
    expect(widget.renderer.isStale).toBe(true);
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(widget.renderer.isStale).toBe(false);
    expect(node('a')?.dataset.state).toBe('done');
  });

  it('repaints a state change in place without moving anything', () => {
    open();
    push('snapshot', diamond());
    widget.renderer.render();
    const before = node('c')!;
    const transform = before.getAttribute('transform');
    const version = widget.graph.version;

    push('tasks', [makeTask({ id: 'c', fn_name: 'right', state: 'error', dependencies: ['a'] })]);
    expect(widget.renderer.isStale).toBe(true);
    widget.renderer.render();

    expect(node('c')).toBe(before);
    expect(before.dataset.state).toBe('error');
    expect(before.getAttribute('transform')).toBe(transform);
    expect(widget.graph.version).toBe(version);
  });

  it('adds a node for a new task', () => {
    open();
    push('snapshot', diamond());
    widget.renderer.render();
    push('tasks', [makeTask({ id: 'e', fn_name: 'report', dependencies: ['d'] })]);
    widget.renderer.render();
    expect(node('e')?.dataset.state).toBe('queued');
    expect(canvas().querySelectorAll('path.jp-ExecutorlabGraph-edge')).toHaveLength(5);
  });

  it('selects a clicked node and syncs selection set from outside', () => {
    open();
    push('snapshot', diamond());
    widget.renderer.render();
    const seen: (string | null)[] = [];
    widget.graph.selectionChanged.connect((_, id) => seen.push(id));

    node('b')!.querySelector('rect')!.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    expect(widget.graph.selected).toBe('b');
    expect(seen).toEqual(['b']);
    expect(node('b')!.classList.contains('jp-mod-selected')).toBe(true);
    expect(canvas().querySelectorAll('.jp-ExecutorlabGraph-edge.jp-mod-highlighted')).toHaveLength(
      2
    );

    widget.graph.select('d');
    expect(node('b')!.classList.contains('jp-mod-selected')).toBe(false);
    expect(node('d')!.classList.contains('jp-mod-selected')).toBe(true);

    canvas().dispatchEvent(new MouseEvent('click', { bubbles: true }));
    expect(widget.graph.selected).toBeNull();
  });

  it('draws groups above the node limit and expands one on double-click', () => {
    open(3);
    push('snapshot', [
      ...[0, 1, 2, 3].map(i =>
        makeTask({ id: `m${i}`, fn_name: 'map', state: i ? 'done' : 'running', submitted_at: i })
      ),
      makeTask({ id: 'r', fn_name: 'reduce', dependencies: ['m0', 'm1', 'm2', 'm3'], submitted_at: 9 })
    ]);
    widget.renderer.render();

    const group = canvas().querySelector<SVGGElement>('[data-group]')!;
    expect(group).not.toBeNull();
    expect(group.dataset.count).toBe('4');
    expect(group.dataset.state).toBe('running');
    expect(group.textContent).toContain('4 tasks');
    expect(group.querySelectorAll('.jp-ExecutorlabGraph-bar')).toHaveLength(6);
    expect(node('m0')).toBeNull();
    expect(widget.node.querySelector('.jp-ExecutorlabGraph-status')!.textContent).toContain(
      '5 tasks in 2 nodes'
    );

    group.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
    widget.renderer.render();
    expect(canvas().querySelector('[data-group]')).toBeNull();
    expect(node('m0')?.dataset.state).toBe('running');
  });

  it('groups and expands the selected function from the toolbar', () => {
    open();
    push('snapshot', [
      makeTask({ id: 'm0', fn_name: 'map' }),
      makeTask({ id: 'm1', fn_name: 'map' })
    ]);
    const toggle = widget.node.querySelector<HTMLButtonElement>(
      '.jp-ExecutorlabGraph-group-toggle'
    )!;
    expect(toggle.disabled).toBe(true);
    widget.graph.select('m0');
    expect(toggle.textContent).toBe('Group map');
    toggle.click();
    widget.renderer.render();
    expect(canvas().querySelector('[data-group]')).not.toBeNull();
    // The selected task is inside the group: the group is highlighted and can be expanded.
    expect(canvas().querySelector('[data-group]')!.classList.contains('jp-mod-selected')).toBe(
      true
    );
    expect(toggle.textContent).toBe('Expand');
    toggle.click();
    widget.renderer.render();
    expect(canvas().querySelector('[data-group]')).toBeNull();
  });

  it('filters by executor with the picker', () => {
    open();
    push('snapshot', [
      ...diamond(),
      makeTask({ id: 'x', executor_id: 'exe-2', executor_name: 'FluxJobExecutor', fn_name: 'other' })
    ]);
    widget.renderer.render();
    const picker = widget.node.querySelector<HTMLSelectElement>('select')!;
    expect([...picker.options].map(o => o.textContent)).toEqual([
      'All executors',
      'SingleNodeExecutor',
      'FluxJobExecutor'
    ]);
    picker.value = 'exe-2';
    picker.dispatchEvent(new Event('change'));
    widget.renderer.render();
    expect(canvas().querySelectorAll('.jp-ExecutorlabGraph-node')).toHaveLength(1);
    expect(node('x')).not.toBeNull();
  });

  it('stops following the tasks while hidden and catches up when shown', () => {
    open();
    push('snapshot', diamond());
    widget.renderer.render();
    widget.hide();
    expect(widget.renderer.active).toBe(false);

    push('tasks', [makeTask({ id: 'a', fn_name: 'load', state: 'error', dependencies: [] })]);
    expect(widget.graph.getNode('a')!.state).toBe('done');
    expect(widget.renderer.isStale).toBe(false);

    widget.show();
    expect(widget.renderer.active).toBe(true);
    expect(widget.graph.getNode('a')!.state).toBe('error');
    widget.renderer.render();
    expect(node('a')!.dataset.state).toBe('error');
  });
});

describe('layoutAndRender', () => {
  it('times layout and rendering separately', () => {
    const tasks: IGraphTask[] = Array.from({ length: 50 }, (_, i) => ({
      id: `t${i}`,
      fn_name: `f${i % 5}`,
      executor_id: 'e',
      executor_name: 'E',
      state: 'done',
      dependencies: i ? [`t${Math.floor(i / 2)}`] : []
    }));
    const host = document.createElement('div');
    document.body.appendChild(host);
    const result = layoutAndRender(host, tasks);
    expect(result.nodes).toBe(50);
    expect(result.edges).toBe(49);
    expect(result.layoutMs).toBeGreaterThanOrEqual(0);
    expect(result.renderMs).toBeGreaterThanOrEqual(0);
    expect(host.querySelectorAll('[data-task-id]')).toHaveLength(50);
    result.dispose();
    expect(host.querySelector('svg')).toBeNull();
    host.remove();
  });
});
