import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { requestAPI } from '../handler';
import { IExecutorView } from '../tokens';
import { INewExecutorSpec } from './model';

/**
 * Calls the server extension (`requestAPI` signature without the settings).
 */
export type ExecutorRequest = <T>(path: string, init?: RequestInit) => Promise<T>;

/**
 * What `create` got: the new executor, or why the bridge refused it.
 */
export type CreateExecutorResult =
  | { executor: IExecutorView; error: null }
  | { executor: null; error: string };

/**
 * What the Executors panel can do to the bridge's executors.
 */
export interface IExecutorPanelActions {
  /** `POST api/executors`; never throws, the bridge's refusal is in `error`. */
  create(spec: INewExecutorSpec): Promise<CreateExecutorResult>;
  /** `POST api/executors/<id>/shutdown`; null when stopped, else why not. */
  stop(id: string): Promise<string | null>;
}

/**
 * The panel's executor actions over the bridge API.
 */
export class ExecutorPanelActions implements IExecutorPanelActions {
  constructor(options: ExecutorPanelActions.IOptions = {}) {
    const settings = options.serverSettings;
    this._request =
      options.request ??
      (<T>(path: string, init?: RequestInit) => requestAPI<T>(path, init, settings));
    this._trans = options.trans ?? nullTranslator.load('executorlab');
  }

  async create(spec: INewExecutorSpec): Promise<CreateExecutorResult> {
    try {
      const reply = await this._request<{ executor?: IExecutorView }>(
        'api/executors',
        { method: 'POST', body: JSON.stringify(spec) }
      );
      if (!reply || typeof reply.executor !== 'object' || reply.executor === null) {
        return {
          executor: null,
          error: this._trans.__('The bridge did not return the new executor.')
        };
      }
      return { executor: reply.executor, error: null };
    } catch (reason) {
      return { executor: null, error: errorMessage(reason) };
    }
  }

  async stop(id: string): Promise<string | null> {
    try {
      await this._request<{ ok: boolean }>(
        `api/executors/${encodeURIComponent(id)}/shutdown`,
        { method: 'POST' }
      );
      return null;
    } catch (reason) {
      return errorMessage(reason);
    }
  }

  private _request: ExecutorRequest;
  private _trans: TranslationBundle;
}

export namespace ExecutorPanelActions {
  export interface IOptions {
    /** `requestAPI` with `serverSettings` by default; tests pass a fake. */
    request?: ExecutorRequest;
    /** Server settings for the default request; the page's by default. */
    serverSettings?: ServerConnection.ISettings;
    /** For the few messages the panel itself writes. */
    trans?: TranslationBundle;
  }
}

/** The bridge's `error` (requestAPI puts it in the message), or what failed. */
export function errorMessage(reason: unknown): string {
  if (reason instanceof ServerConnection.ResponseError) {
    return reason.message || `HTTP ${reason.response.status}`;
  }
  if (reason instanceof Error) {
    return reason.message;
  }
  return String(reason);
}
