import { ITranslator, nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { ResourceUsage } from '../components/usage/ResourceUsage';
import { ITaskMonitorModel } from '../tokens';
import { UsageModel } from './model';

/**
 * Id of the usage view in the main area; tests and the layout restorer find it by this.
 */
export const RESOURCE_USAGE_ID = 'executorlab-resource-usage';

/**
 * Resource Usage, a main-area widget: cores and GPUs busy against the total over
 * time, the queue's depth, and each worker's CPU and memory.
 *
 * The model fetches and polls only while the widget is visible, and nothing is
 * rendered while it is hidden; it catches up when shown again.
 */
export class ResourceUsageWidget extends ReactWidget {
  constructor(options: ResourceUsageWidget.IOptions) {
    super();
    this._model = options.model;
    this._monitor = options.monitor ?? null;
    this._trans = (options.translator ?? nullTranslator).load('executorlab');
    this.id = RESOURCE_USAGE_ID;
    this.addClass('jp-ExecutorlabUsage');
    this.title.label = this._trans.__('Resource Usage');
    this.title.caption = this._trans.__('Cores, GPUs, calls and workers of the executorlab bridge over time');
    this.title.closable = true;
    this._model.changed.connect(this._onChanged, this);
  }

  get model(): UsageModel {
    return this._model;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._onChanged, this);
    this._model.active = false;
    super.dispose();
  }

  protected render(): JSX.Element | null {
    if (!this._shown) {
      return null;
    }
    const executors = this._monitor?.executors;
    return (
      <ResourceUsage
        samples={this._model.samples}
        workers={this._model.workers}
        intervalMs={this._model.intervalMs}
        width={this._width}
        error={this._model.error}
        trans={this._trans}
        executorName={executors ? id => executors.find(e => e.id === id)?.name : undefined}
      />
    );
  }

  protected onUpdateRequest(msg: Message): void {
    if (!this.isVisible) {
      this._stale = true;
      return;
    }
    this._stale = false;
    super.onUpdateRequest(msg);
  }

  protected onAfterAttach(msg: Message): void {
    const visible = this.isVisible;
    if (visible) {
      // ReactWidget renders as it is attached.
      this._shown = true;
      this._measure();
    }
    super.onAfterAttach(msg);
    if (visible) {
      this._model.active = true;
    }
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.active = false;
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._measure();
    if (!this._shown || this._stale) {
      this._shown = true;
      this.update();
    }
    this._model.active = true;
  }

  protected onBeforeHide(msg: Message): void {
    this._model.active = false;
    super.onBeforeHide(msg);
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    const before = this._width;
    this._measure(msg.width);
    if (this._width !== before) {
      this.update();
    }
  }

  private _measure(width = -1): void {
    const measured = width >= 0 ? width : this.node.clientWidth;
    // Room for the panel's padding; jsdom (tests) measures 0.
    this._width = measured > 0 ? Math.max(240, Math.floor(measured) - 32) : DEFAULT_WIDTH;
  }

  private _onChanged(): void {
    this.update();
  }

  private _model: UsageModel;
  private _monitor: ITaskMonitorModel | null;
  private _trans: TranslationBundle;
  private _shown = false;
  private _stale = false;
  private _width = DEFAULT_WIDTH;
}

const DEFAULT_WIDTH = 600;

export namespace ResourceUsageWidget {
  export interface IOptions {
    /** E.g. `new UsageModel({ connection, serverSettings })`. */
    model: UsageModel;
    /** The task monitor: executors' names for the worker table. */
    monitor?: ITaskMonitorModel | null;
    translator?: ITranslator;
  }
}
