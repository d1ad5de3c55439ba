import { describe, expect, it, vi } from 'vitest';

import { GraphModel, IGraphTask, isGroupId } from '../src/graph/model';
import { TaskState } from '../src/tokens';

function task(
  id: string,
  dependencies: string[] = [],
  overrides: Partial<IGraphTask> = {}
): IGraphTask {
  return {
    id,
    fn_name: id,
    executor_id: 'exe-1',
    executor_name: 'SingleNodeExecutor',
    state: 'queued',
    dependencies,
    ...overrides
  };
}

function diamond(): IGraphTask[] {
  return [task('a'), task('b', ['a']), task('c', ['a']), task('d', ['b', 'c'])];
}

/** `n` independent tasks of function `fn`, then one task of `reduce` depending on them all. */
function fanIn(n: number, fn = 'map', state: TaskState = 'done'): IGraphTask[] {
  const maps = Array.from({ length: n }, (_, i) =>
    task(`m${i}`, [], { fn_name: fn, state, submitted_at: i })
  );
  return [
    ...maps,
    task('r', maps.map(m => m.id), { fn_name: 'reduce', submitted_at: n })
  ];
}

describe('GraphModel', () => {
  it('lays a diamond out as 4 nodes and 4 edges in rank order', () => {
    const model = new GraphModel({ tasks: diamond() });
    expect(model.nodes.map(n => n.id).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(model.edges.map(e => e.id).sort()).toEqual(['a→b', 'a→c', 'b→d', 'c→d']);

    const layout = model.layout();
    expect(layout.nodes.size).toBe(4);
    expect(layout.edges.size).toBe(4);
    const y = (id: string) => layout.nodes.get(id)!.y;
    expect(y('a')).toBeLessThan(y('b'));
    expect(y('b')).toBe(y('c'));
    expect(y('b')).toBeLessThan(y('d'));
    const b = layout.nodes.get('b')!;
    const c = layout.nodes.get('c')!;
    expect(Math.abs(b.x - c.x)).toBeGreaterThanOrEqual((b.width + c.width) / 2);
    for (const box of layout.nodes.values()) {
      expect(box.width).toBeGreaterThan(0);
      expect(box.height).toBeGreaterThan(0);
    }
    // Edges run from the dependency's bottom to the dependent's top.
    const ab = layout.edges.get('a→b')!;
    expect(ab.points.length).toBeGreaterThanOrEqual(2);
    expect(ab.points[0].y).toBeCloseTo(y('a') + layout.nodes.get('a')!.height / 2, 3);
    expect(ab.points[ab.points.length - 1].y).toBeCloseTo(
      y('b') - layout.nodes.get('b')!.height / 2,
      3
    );
    expect(layout.width).toBeGreaterThan(0);
    expect(layout.height).toBeGreaterThan(0);
  });

  it('changes no position for a state change', () => {
    const model = new GraphModel({ tasks: diamond() });
    const before = model.layout();
    const version = model.version;
    const listener = vi.fn();
    model.changed.connect(listener);

    const change = model.update([task('b', ['a'], { state: 'running' })]);

    expect(change).toEqual({ structural: false, nodes: ['b'] });
    expect(listener).toHaveBeenCalledTimes(1);
    expect(model.version).toBe(version);
    expect(model.getNode('b')!.state).toBe('running');
    const after = model.layout();
    expect(after).toBe(before);
    expect(after.nodes.get('b')).toEqual(before.nodes.get('b'));
  });

  it('reports nothing for a record that did not change', () => {
    const model = new GraphModel({ tasks: diamond() });
    const listener = vi.fn();
    model.changed.connect(listener);
    expect(model.update([task('a')])).toEqual({ structural: false, nodes: [] });
    expect(listener).not.toHaveBeenCalled();
  });

  it('adds a node and its edges for a new task', () => {
    const model = new GraphModel({ tasks: diamond() });
    model.layout();
    const version = model.version;

    const change = model.update([task('e', ['d', 'a'])]);

    expect(change.structural).toBe(true);
    expect(model.version).toBe(version + 1);
    expect(model.getNode('e')).toBeDefined();
    expect(model.edges.map(e => e.id)).toEqual(expect.arrayContaining(['d→e', 'a→e']));
    const layout = model.layout();
    expect(layout.nodes.size).toBe(5);
    expect(layout.edges.size).toBe(6);
    expect(layout.nodes.get('e')!.y).toBeGreaterThan(layout.nodes.get('d')!.y);
  });

  it('removes tasks, and ignores dependencies it does not know', () => {
    const model = new GraphModel({ tasks: diamond() });
    const change = model.update([task('x', ['unknown'])], ['d']);
    expect(change.structural).toBe(true);
    expect(model.nodes.map(n => n.id).sort()).toEqual(['a', 'b', 'c', 'x']);
    expect(model.edges.map(e => e.id).sort()).toEqual(['a→b', 'a→c']);
  });

  it('shows one executor when filtered, and lists the executors', () => {
    const model = new GraphModel({
      tasks: [
        ...diamond(),
        task('z', ['a'], { executor_id: 'exe-2', executor_name: 'FluxJobExecutor' })
      ]
    });
    expect(model.executors).toEqual([
      { id: 'exe-1', name: 'SingleNodeExecutor' },
      { id: 'exe-2', name: 'FluxJobExecutor' }
    ]);
    expect(model.edges.map(e => e.id)).toContain('a→z');
    model.executorId = 'exe-2';
    expect(model.nodes.map(n => n.id)).toEqual(['z']);
    expect(model.edges).toEqual([]);
    model.executorId = null;
    expect(model.nodes).toHaveLength(5);
  });

  it('groups same-function tasks above the node limit, with a state breakdown', () => {
    const tasks = fanIn(10);
    tasks[0] = { ...tasks[0], state: 'error' };
    tasks[1] = { ...tasks[1], state: 'running' };
    const model = new GraphModel({ nodeLimit: 5, tasks });

    expect(model.autoGrouped).toBe(true);
    expect(model.nodes).toHaveLength(2);
    const group = model.nodes.find(n => n.kind === 'group')!;
    expect(isGroupId(group.id)).toBe(true);
    expect(group.label).toBe('map');
    expect(group.taskIds).toHaveLength(10);
    expect(group.counts).toMatchObject({ done: 8, error: 1, running: 1, queued: 0 });
    expect(group.state).toBe('error');
    expect(model.nodeIdOf('m3')).toBe(group.id);
    expect(model.nodeIdOf('r')).toBe('r');
    expect(model.edges.map(e => e.id)).toEqual([`${group.id}→r`]);
    const layout = model.layout();
    expect(layout.nodes.get(group.id)!.y).toBeLessThan(layout.nodes.get('r')!.y);

    // Below the limit again: drawn one by one.
    model.nodeLimit = 500;
    expect(model.autoGrouped).toBe(false);
    expect(model.nodes).toHaveLength(11);
  });

  it('keeps different dependency levels of one function apart', () => {
    // f0 → f1 → f2 → f3, plus three more level-0 tasks of f: above the limit.
    const chain = [0, 1, 2, 3].map(i =>
      task(`f${i}`, i ? [`f${i - 1}`] : [], { fn_name: 'f', submitted_at: i })
    );
    const extra = [4, 5, 6].map(i => task(`f${i}`, [], { fn_name: 'f', submitted_at: i }));
    const model = new GraphModel({ nodeLimit: 6, tasks: [...chain, ...extra] });
    // Level 0 (f0, f4, f5, f6) is a group; levels 1–3 have one task each.
    expect(model.nodes.map(n => n.id)).toEqual([model.nodeIdOf('f0'), 'f1', 'f2', 'f3']);
    expect(model.getNode(model.nodeIdOf('f0')!)!.taskIds).toEqual(['f0', 'f4', 'f5', 'f6']);
    expect(model.edges).toHaveLength(3);
  });

  it('falls back to one group per function when levels are not enough', () => {
    const chain = Array.from({ length: 8 }, (_, i) =>
      task(`f${i}`, i ? [`f${i - 1}`] : [], { fn_name: 'f', submitted_at: i })
    );
    const model = new GraphModel({ nodeLimit: 4, tasks: chain });
    expect(model.nodes).toHaveLength(1);
    expect(model.nodes[0].taskIds).toHaveLength(8);
    // Edges inside a group are not drawn.
    expect(model.edges).toEqual([]);
  });

  it('expands a group and collapses a function on request', () => {
    const model = new GraphModel({ tasks: fanIn(4) });
    expect(model.nodes).toHaveLength(5);

    model.collapse('map');
    expect(model.collapsedFunctions.has('map')).toBe(true);
    expect(model.nodes).toHaveLength(2);
    const group = model.nodeIdOf('m0')!;
    expect(model.getNode(group)!.kind).toBe('group');
    model.layout();
    const version = model.version;

    // A new map task joins the group: no new node or edge, so no relayout.
    const change = model.update([
      task('m4', [], { fn_name: 'map', state: 'running', submitted_at: 3.5 })
    ]);
    expect(change).toEqual({ structural: false, nodes: [group] });
    expect(model.version).toBe(version);
    expect(model.getNode(group)!.taskIds).toHaveLength(5);
    expect(model.getNode(group)!.state).toBe('running');

    model.expand(group);
    expect(model.nodes).toHaveLength(6);
    expect(model.nodeIdOf('m0')).toBe('m0');
    expect(model.version).toBe(version + 1);

    // Collapsing the function again undoes the expansion.
    model.collapse('map');
    expect(model.nodes).toHaveLength(2);

    model.uncollapse('map');
    expect(model.nodes).toHaveLength(6);
  });

  it('expands an automatic group while the rest stays grouped', () => {
    const other = fanIn(6, 'other').map(t => ({
      ...t,
      id: `o-${t.id}`,
      dependencies: t.dependencies!.map(id => `o-${id}`)
    }));
    // 14 tasks: the maps, the others and the two reduces (same level) make 3 groups.
    const model = new GraphModel({ nodeLimit: 9, tasks: [...fanIn(6, 'map'), ...other] });
    expect(model.nodes).toHaveLength(3);
    const mapGroup = model.nodeIdOf('m0')!;
    const otherGroup = model.nodeIdOf('o-m0')!;
    expect(isGroupId(mapGroup)).toBe(true);
    expect(isGroupId(otherGroup)).toBe(true);

    model.expand(mapGroup);
    expect(model.nodeIdOf('m0')).toBe('m0');
    expect(model.nodeIdOf('o-m0')).toBe(otherGroup);
    expect(model.nodes).toHaveLength(8);
    // Ignored: not a group.
    model.expand('m0');
    expect(model.nodeIdOf('m0')).toBe('m0');
  });

  it('emits selectionChanged when the selection changes', () => {
    const model = new GraphModel({ tasks: diamond() });
    const seen: (string | null)[] = [];
    model.selectionChanged.connect((_, id) => seen.push(id));

    model.select('b');
    model.select('b');
    model.select(null);

    expect(seen).toEqual(['b', null]);
    expect(model.selected).toBeNull();
  });

  it('lays out 2,000 tasks', () => {
    const tasks: IGraphTask[] = [];
    for (let l = 0; l < 10; l++) {
      for (let i = 0; i < 200; i++) {
        tasks.push(
          task(`n${l}_${i}`, l ? [`n${l - 1}_${i}`, `n${l - 1}_${(i * 7) % 200}`] : [], {
            fn_name: `step${l}`
          })
        );
      }
    }
    const model = new GraphModel({ nodeLimit: Infinity, tasks });
    const layout = model.layout();
    expect(layout.nodes.size).toBe(2000);
    expect(layout.nodes.get('n0_0')!.y).toBeLessThan(layout.nodes.get('n9_0')!.y);
  }, 30_000);
});
