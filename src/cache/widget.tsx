import { showDialog } from '@jupyterlab/apputils';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { CacheBrowser } from '../components/cache/CacheBrowser';
import { cacheIcon } from './icons';
import { ICacheBrowserModel } from './tokens';

/**
 * Id of the cache browser in the main area; tests and the layout restorer find it by this.
 */
export const CACHE_BROWSER_ID = 'executorlab-cache-browser';

/**
 * The Executor Cache browser, a main-area widget: lists a cache directory's files,
 * deletes selected ones, cleans.
 *
 * Nothing is rendered or requested until it is first shown; while hidden, updates
 * wait until it is shown again, and each showing lists the directory again.
 */
export class CacheBrowserWidget extends ReactWidget {
  constructor(options: CacheBrowserWidget.IOptions) {
    super();
    this._model = options.model;
    this._trans = (options.translator ?? nullTranslator).load('executorlab');
    this._confirm = options.confirm ?? true;
    this._showDialog = options.showDialog;
    this.id = CACHE_BROWSER_ID;
    this.addClass('jp-ExecutorlabCacheBrowser');
    this.title.label = this._trans.__('Executor Cache');
    this.title.caption = this._trans.__(
      'Cache files of executorlab and executorlib calls'
    );
    this.title.icon = cacheIcon;
    this.title.closable = true;
  }

  get model(): ICacheBrowserModel {
    return this._model;
  }

  /**
   * Ask before deleting (the "confirm before cleanup" setting): before "Delete
   * selected" and with the clean's second dialog. The mode dialog always shows.
   */
  get confirm(): boolean {
    return this._confirm;
  }

  set confirm(value: boolean) {
    if (value !== this._confirm) {
      this._confirm = value;
      this.update();
    }
  }

  protected render(): JSX.Element | null {
    if (!this._shown) {
      return null;
    }
    return (
      <CacheBrowser
        model={this._model}
        trans={this._trans}
        confirm={this._confirm}
        showDialog={this._showDialog}
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

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (!this._shown || this._stale) {
      this._shown = true;
      this.update();
    }
    this._refreshIfOpen();
  }

  protected onAfterAttach(msg: Message): void {
    const visible = this.isVisible;
    if (visible) {
      // ReactWidget renders as it is attached.
      this._shown = true;
    }
    super.onAfterAttach(msg);
    if (visible) {
      this._refreshIfOpen();
    }
  }

  /**
   * Files come and go while nobody looks: list them again each time the browser is
   * shown. (With no directory yet, the browser opens the first one kernels used.)
   */
  private _refreshIfOpen(): void {
    if (this._model.directory && !this._model.loading) {
      void this._model.refresh();
    }
  }

  private _model: ICacheBrowserModel;
  private _trans: TranslationBundle;
  private _confirm: boolean;
  private _showDialog?: typeof showDialog;
  private _shown = false;
  private _stale = false;
}

export namespace CacheBrowserWidget {
  export interface IOptions {
    /** The model, e.g. `new CacheBrowserModel({ serverSettings, directory })`. */
    model: ICacheBrowserModel;
    translator?: ITranslator;
    /** The "confirm before cleanup" setting; true by default. */
    confirm?: boolean;
    /** JupyterLab's `showDialog` by default (tests pass their own). */
    showDialog?: typeof showDialog;
  }
}
