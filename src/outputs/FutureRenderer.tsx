import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { ServerConnection } from '@jupyterlab/services';
import { ITranslator, nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { TaskDetailsRequest } from '../tasks/details';
import { FUTURE_MIME_TYPE, ITaskMonitorModel, SHOW_TASK_COMMAND } from '../tokens';
import { FutureModel } from './futureModel';
import { FutureView } from './FutureView';
import { parseFutureData } from './payload';

/**
 * Renders `application/vnd.executorlab.future+json`: a live status line for a
 * future displayed in a cell (see `FutureView`).
 *
 * Its `FutureModel` follows the task monitor for as long as the renderer lives;
 * the output (when live) is polled only while the renderer is attached and
 * visible. Disposing the renderer disconnects and stops everything.
 */
export class FutureRenderer extends ReactWidget implements IRenderMime.IRenderer {
  constructor(options: FutureRenderer.IOptions) {
    super();
    this._options = options;
    this._trans = (options.translator ?? nullTranslator).load('executorlab');
    this.addClass('jp-executorlab-FutureRenderer');
  }

  /** The future shown; null before a valid payload was rendered. */
  get model(): FutureModel | null {
    return this._model;
  }

  /** Why the payload could not be shown; null when it was. */
  get error(): string | null {
    return this._error;
  }

  renderModel(mimeModel: IRenderMime.IMimeModel): Promise<void> {
    const parsed = parseFutureData(mimeModel.data[FUTURE_MIME_TYPE]);
    if (!parsed.ok) {
      this._setModel(null);
      this._error = parsed.error;
    } else if (this._model && this._model.taskId === parsed.value.task_id) {
      // An updated display of the same future.
      this._error = null;
      this._model.data = parsed.value;
    } else {
      this._error = null;
      const { monitor, request, serverSettings, pollInterval } = this._options;
      this._setModel(
        new FutureModel({ data: parsed.value, monitor, request, serverSettings, pollInterval })
      );
    }
    this.update();
    return Promise.resolve();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._setModel(null);
    super.dispose();
  }

  protected render(): JSX.Element | null {
    if (this._error !== null) {
      return (
        <div className="jp-executorlab-FutureView-invalid" role="alert">
          {this._trans.__('Cannot show the future: %1', this._error)}
        </div>
      );
    }
    const model = this._model;
    if (!model) {
      return null;
    }
    return <FutureView model={model} trans={this._trans} onShowTask={this._showTask} />;
  }

  /**
   * Render only while attached: unmounting on detach (ReactWidget) then stops the
   * view's timers, and a renderer disposed without ever being attached has none.
   */
  protected onUpdateRequest(msg: Message): void {
    if (this.isAttached) {
      super.onUpdateRequest(msg);
    }
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._setActive(this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this._setActive(false);
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._setActive(this.isVisible);
  }

  protected onBeforeHide(msg: Message): void {
    this._setActive(false);
    super.onBeforeHide(msg);
  }

  private _setActive(active: boolean): void {
    this._active = active;
    if (this._model) {
      this._model.outputActive = active;
    }
  }

  private _setModel(model: FutureModel | null): void {
    this._model?.dispose();
    this._model = model;
    if (model) {
      model.outputActive = this._active;
    }
  }

  private _showTask = (taskId: string): void => {
    void this._options.commands.execute(SHOW_TASK_COMMAND, { taskId });
  };

  private _options: FutureRenderer.IOptions;
  private _trans: TranslationBundle;
  private _model: FutureModel | null = null;
  private _error: string | null = null;
  private _active = false;
}

export namespace FutureRenderer {
  export interface IOptions {
    /** The live task list. */
    monitor: ITaskMonitorModel;
    /** Runs `executorlab:show-task` for the line's link. */
    commands: Pick<CommandRegistry, 'execute'>;
    translator?: ITranslator;
    /** Calls the server extension; `requestAPI` with `serverSettings` by default. */
    request?: TaskDetailsRequest;
    serverSettings?: ServerConnection.ISettings;
    /** Milliseconds between output fetches while the task runs; 1000 by default. */
    pollInterval?: number;
  }
}
