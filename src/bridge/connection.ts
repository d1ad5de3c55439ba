import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { API_NAMESPACE, requestAPI } from '../handler';
import {
  BridgeEvent,
  ConnectionStatus,
  IBridgeConnection,
  IBridgeStatus
} from '../tokens';
import { Backoff } from './backoff';
import { parseBridgeEvent } from './protocol';
import { parseUsageEvent } from '../usage/model';

export const EVENTS_PATH = 'api/events';
export const STATUS_PATH = 'api/status';

/**
 * Events socket to the bridge (through the Jupyter server extension).
 *
 * The bridge pushes a snapshot first, then batches of changed tasks. When the
 * socket closes (bridge restart, server gone), it reconnects with exponential
 * backoff; the next snapshot replaces whatever views held before.
 */
export class BridgeConnection implements IBridgeConnection {
  constructor(options: BridgeConnection.IOptions = {}) {
    this._settings = options.serverSettings ?? ServerConnection.makeSettings();
    this._backoff = new Backoff(
      options.minReconnectDelay,
      options.maxReconnectDelay
    );
    this._open();
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  get statusChanged(): ISignal<IBridgeConnection, ConnectionStatus> {
    return this._statusChanged;
  }

  get eventReceived(): ISignal<IBridgeConnection, BridgeEvent> {
    return this._eventReceived;
  }

  get bridgeStatus(): IBridgeStatus | null {
    return this._bridgeStatus;
  }

  get bridgeStatusChanged(): ISignal<IBridgeConnection, IBridgeStatus | null> {
    return this._bridgeStatusChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * URL of the events socket, with Jupyter's token when the page has one.
   */
  get url(): string {
    const url = URLExt.join(this._settings.wsUrl, API_NAMESPACE, EVENTS_PATH);
    const token = this._settings.token;
    return token ? `${url}?token=${encodeURIComponent(token)}` : url;
  }

  reconnect(): void {
    if (this._isDisposed) {
      return;
    }
    this._backoff.reset();
    this._closeSocket();
    this._open();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._closeSocket();
    Signal.clearData(this);
  }

  private _open(): void {
    this._clearTimer();
    const socket = new this._settings.WebSocket(this.url);
    this._socket = socket;
    socket.onmessage = (msg: MessageEvent) => this._onMessage(socket, msg);
    socket.onclose = () => this._onClose(socket);
    // An error is always followed by a close event, which does the handling.
    socket.onerror = () => undefined;
  }

  private _onMessage(socket: WebSocket, msg: MessageEvent): void {
    if (socket !== this._socket) {
      return;
    }
    const event = parseBridgeEvent(msg.data) ?? parseUsageEvent(msg.data);
    if (!event) {
      return;
    }
    if (event.type === 'snapshot') {
      // Only a snapshot proves the bridge is behind the socket: a proxy that
      // accepts and then drops the socket must not reset the backoff.
      this._backoff.reset();
      this._setStatus('connected');
      void this._fetchBridgeStatus();
    }
    this._eventReceived.emit(event);
  }

  private _onClose(socket: WebSocket): void {
    if (socket !== this._socket || this._isDisposed) {
      return;
    }
    this._socket = null;
    this._setStatus('disconnected');
    this._timer = setTimeout(() => this._open(), this._backoff.next());
  }

  private async _fetchBridgeStatus(): Promise<void> {
    let status: IBridgeStatus | null = null;
    try {
      status = await requestAPI<IBridgeStatus>(STATUS_PATH, {}, this._settings);
    } catch (reason) {
      console.warn('executorlab: could not read the bridge status', reason);
    }
    if (this._isDisposed || this._status !== 'connected') {
      return;
    }
    this._setBridgeStatus(status);
  }

  private _setBridgeStatus(status: IBridgeStatus | null): void {
    if (this._bridgeStatus === status) {
      return;
    }
    this._bridgeStatus = status;
    this._bridgeStatusChanged.emit(status);
  }

  private _setStatus(status: ConnectionStatus): void {
    if (this._status === status) {
      return;
    }
    this._status = status;
    this._statusChanged.emit(status);
    if (status !== 'connected') {
      this._setBridgeStatus(null);
    }
  }

  private _closeSocket(): void {
    this._clearTimer();
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = null;
      socket.close();
    }
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _settings: ServerConnection.ISettings;
  private _backoff: Backoff;
  private _socket: WebSocket | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _status: ConnectionStatus = 'connecting';
  private _bridgeStatus: IBridgeStatus | null = null;
  private _isDisposed = false;
  private _statusChanged = new Signal<IBridgeConnection, ConnectionStatus>(
    this
  );
  private _eventReceived = new Signal<IBridgeConnection, BridgeEvent>(this);
  private _bridgeStatusChanged = new Signal<
    IBridgeConnection,
    IBridgeStatus | null
  >(this);
}

export namespace BridgeConnection {
  export interface IOptions {
    /** Server settings; the page's by default. Tests pass their own WebSocket/fetch here. */
    serverSettings?: ServerConnection.ISettings;
    /** Milliseconds before the first reconnection attempt (default 500). */
    minReconnectDelay?: number;
    /** Longest wait between attempts in milliseconds (default 5000). */
    maxReconnectDelay?: number;
  }
}
