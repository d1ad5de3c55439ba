import { ITranslator, nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { ITaskMonitorModel, ITaskView } from '../tokens';
import { GraphModel, IExecutorEntry, IGraphChange } from './model';
import { GraphRenderer } from './renderer';

export const DEPENDENCY_GRAPH_ID = 'executorlab-dependency-graph';

const ALL_EXECUTORS = '';

/**
 * Main-area view of the tasks' dependency graph, fed live by the task monitor model.
 *
 * `graph` holds the drawn graph and its selection (`graph.select(id)`,
 * `graph.selectionChanged`) for syncing with other views. While hidden, the
 * widget neither follows the task model nor draws; it catches up when shown.
 */
export class DependencyGraphWidget extends Widget {
  constructor(options: DependencyGraphWidget.IOptions) {
    super();
    this._model = options.model;
    this._trans = (options.translator ?? nullTranslator).load('executorlab');
    this.graph = new GraphModel({ nodeLimit: options.nodeLimit });
    this.id = DEPENDENCY_GRAPH_ID;
    this.addClass('jp-ExecutorlabGraph');
    this.title.label = this._trans.__('Dependency Graph');
    this.title.caption = this._trans.__('Dependencies between executor tasks');
    this.title.closable = true;

    const trans = this._trans;
    const toolbar = document.createElement('div');
    toolbar.className = 'jp-ExecutorlabGraph-toolbar';

    const pickerLabel = document.createElement('label');
    pickerLabel.className = 'jp-ExecutorlabGraph-executorLabel';
    pickerLabel.textContent = trans.__('Executor');
    this._picker = document.createElement('select');
    this._picker.className = 'jp-ExecutorlabGraph-executor jp-mod-styled';
    this._picker.addEventListener('change', () => {
      const value = this._picker.value;
      this.graph.executorId = value === ALL_EXECUTORS ? null : value;
    });
    pickerLabel.appendChild(this._picker);

    this._groupButton = button(
      'jp-ExecutorlabGraph-group-toggle',
      trans.__('Group'),
      trans.__('Draw the selected function as groups, or expand the selected group'),
      () => this._toggleGroup()
    );
    const fitButton = button(
      'jp-ExecutorlabGraph-fit',
      trans.__('Fit'),
      trans.__('Zoom to show the whole graph'),
      () => this._renderer.fit()
    );
    this._status = document.createElement('span');
    this._status.className = 'jp-ExecutorlabGraph-status';
    this._status.setAttribute('aria-live', 'polite');
    toolbar.append(pickerLabel, this._groupButton, fitButton, this._status);

    const canvas = document.createElement('div');
    canvas.className = 'jp-ExecutorlabGraph-canvasHost';
    this._empty = document.createElement('div');
    this._empty.className = 'jp-ExecutorlabGraph-empty';
    this._empty.textContent = trans.__('No tasks yet.');
    canvas.appendChild(this._empty);
    this.node.append(toolbar, canvas);

    this._renderer = new GraphRenderer({
      model: this.graph,
      container: canvas,
      trans
    });
    this.graph.changed.connect(this._onGraphChanged, this);
    this.graph.selectionChanged.connect(this._updateToolbar, this);
    this._model.changed.connect(this._onTasksChanged, this);
    this._updatePicker();
    this._updateToolbar();
  }

  /** The drawn graph, its grouping and selection. */
  readonly graph: GraphModel;

  /** Draws `graph`; `renderer.svg` is the canvas. */
  get renderer(): GraphRenderer {
    return this._renderer;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._onTasksChanged, this);
    this._renderer.dispose();
    this.graph.dispose();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this._activate();
    }
  }

  protected onBeforeDetach(msg: Message): void {
    this._renderer.active = false;
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._activate();
  }

  protected onBeforeHide(msg: Message): void {
    this._renderer.active = false;
    super.onBeforeHide(msg);
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    if (this._renderer.active && this._renderer.autoFit) {
      this._renderer.fit();
    }
  }

  /**
   * Catch up with the task model and draw.
   */
  private _activate(): void {
    this._sync();
    this._renderer.active = true;
  }

  private _onTasksChanged(): void {
    // Hidden: catch up in `_activate` when shown again.
    if (this.isVisible) {
      this._sync();
    }
  }

  /**
   * Feed the graph what changed since the last sync: the task model replaces a
   * task's record when it changes, so comparing records finds the deltas.
   */
  private _sync(): void {
    const tasks = this._model.tasks;
    const changed: ITaskView[] = [];
    const next = new Map<string, ITaskView>();
    for (const task of tasks) {
      next.set(task.id, task);
      if (this._seen.get(task.id) !== task) {
        changed.push(task);
      }
    }
    const removed: string[] = [];
    if (next.size !== this._seen.size || changed.length) {
      for (const id of this._seen.keys()) {
        if (!next.has(id)) {
          removed.push(id);
        }
      }
    }
    this._seen = next;
    if (changed.length || removed.length) {
      this.graph.update(changed, removed);
    }
  }

  private _onGraphChanged(_: GraphModel, change: IGraphChange): void {
    if (change.structural) {
      this._updatePicker();
    }
    this._updateToolbar();
  }

  private _updatePicker(): void {
    const executors = this.graph.executors;
    if (executors === this._executors) {
      return;
    }
    this._executors = executors;
    const picker = this._picker;
    const current = this.graph.executorId ?? ALL_EXECUTORS;
    picker.textContent = '';
    picker.appendChild(new Option(this._trans.__('All executors'), ALL_EXECUTORS));
    for (const executor of executors) {
      picker.appendChild(new Option(executorLabel(executor, executors), executor.id));
    }
    if (current !== ALL_EXECUTORS && !executors.some(e => e.id === current)) {
      picker.appendChild(new Option(current, current));
    }
    picker.value = current;
  }

  private _updateToolbar(): void {
    const graph = this.graph;
    const trans = this._trans;
    const n = graph.taskCount;
    this._empty.hidden = n > 0;
    this._status.textContent =
      n === 0
        ? ''
        : graph.autoGrouped
          ? trans.__(
              '%1 tasks in %2 nodes (grouped above %3)',
              n,
              graph.nodes.length,
              graph.nodeLimit
            )
          : trans._n('%1 task', '%1 tasks', n);
    const node = this._selectedNode();
    const button = this._groupButton;
    if (node?.kind === 'group') {
      button.disabled = false;
      button.textContent = trans.__('Expand');
    } else if (node) {
      button.disabled = false;
      button.textContent = trans.__('Group %1', node.label);
    } else {
      button.disabled = true;
      button.textContent = trans.__('Group');
    }
  }

  private _selectedNode() {
    const selected = this.graph.selected;
    if (selected === null) {
      return undefined;
    }
    const id = this.graph.getNode(selected) ? selected : this.graph.nodeIdOf(selected);
    return id === undefined ? undefined : this.graph.getNode(id);
  }

  private _toggleGroup(): void {
    const node = this._selectedNode();
    if (!node) {
      return;
    }
    if (node.kind === 'group') {
      this.graph.expand(node.id);
    } else {
      this.graph.collapse(node.label);
    }
    this._updateToolbar();
  }

  private _model: ITaskMonitorModel;
  private _trans: TranslationBundle;
  private _renderer: GraphRenderer;
  private _picker: HTMLSelectElement;
  private _groupButton: HTMLButtonElement;
  private _status: HTMLSpanElement;
  private _empty: HTMLDivElement;
  private _executors: readonly IExecutorEntry[] | null = null;
  private _seen = new Map<string, ITaskView>();
}

export namespace DependencyGraphWidget {
  export interface IOptions {
    /** Source of the task views and their changes. */
    model: ITaskMonitorModel;
    translator?: ITranslator;
    /** Above this many tasks, same-function tasks are grouped (default 500). */
    nodeLimit?: number;
  }
}

function button(
  className: string,
  label: string,
  title: string,
  onClick: () => void
): HTMLButtonElement {
  const el = document.createElement('button');
  el.type = 'button';
  el.className = `${className} jp-mod-styled`;
  el.textContent = label;
  el.title = title;
  el.addEventListener('click', onClick);
  return el;
}

/** The executor's name, with its id when several executors share the name. */
function executorLabel(executor: IExecutorEntry, all: readonly IExecutorEntry[]): string {
  const twins = all.filter(e => e.name === executor.name).length;
  return twins > 1 ? `${executor.name} (${executor.id.slice(0, 8)})` : executor.name;
}
