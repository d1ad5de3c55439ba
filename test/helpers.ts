import { ServerConnection } from '@jupyterlab/services';

import { ITaskView } from '../src/tokens';

export function makeTask(overrides: Partial<ITaskView> = {}): ITaskView {
  return {
    id: 'task-1',
    executor_id: 'exe-1',
    executor_name: 'SingleNodeExecutor',
    fn_name: 'sum',
    state: 'queued',
    submitted_at: 1_763_700_000_000,
    started_at: null,
    finished_at: null,
    runtime: null,
    resources: { cores: 1, threads_per_core: 1, gpus_per_core: 0 },
    error_type: null,
    client_id: 'kernel-1',
    ...overrides
  };
}

/**
 * In-memory stand-in for the browser WebSocket: tests drive the server side.
 */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  static get last(): FakeWebSocket {
    const socket = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!socket) {
      throw new Error('no WebSocket was opened');
    }
    return socket;
  }

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  closed = false;

  close(): void {
    this.closed = true;
  }

  /** Server side: the socket opened. */
  open(): void {
    this.onopen?.(new Event('open'));
  }

  /** Server side: push one text frame. */
  push(message: unknown): void {
    const data = typeof message === 'string' ? message : JSON.stringify(message);
    this.onmessage?.(new MessageEvent('message', { data }));
  }

  /** Server side: drop the connection. */
  drop(): void {
    this.closed = true;
    this.onerror?.(new Event('error'));
    this.onclose?.(new CloseEvent('close', { code: 1006 }));
  }
}

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

export function makeSettings(
  options: Partial<ServerConnection.ISettings> = {}
): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    wsUrl: 'ws://localhost:8888/lab-base/',
    token: '',
    WebSocket: FakeWebSocket as unknown as typeof WebSocket,
    fetch: () => Promise.resolve(jsonResponse({ version: '0.1.0', pid: 42, started: 1 })),
    ...options
  });
}
