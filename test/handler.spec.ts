import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it, vi } from 'vitest';

import { requestAPI } from '../src/handler';
import { jsonResponse, makeSettings } from './helpers';

describe('requestAPI', () => {
  it('calls <baseUrl>/executorlab/<path> and decodes JSON', async () => {
    const fetch = vi.fn((_input: RequestInfo, _init?: RequestInit) =>
      Promise.resolve(jsonResponse({ version: '0.1.0', pid: 123, started: 1763700000000 }))
    );
    const status = await requestAPI<{ version: string; pid: number }>(
      'api/status',
      {},
      makeSettings({ fetch })
    );
    expect(status).toEqual({ version: '0.1.0', pid: 123, started: 1763700000000 });
    const input = fetch.mock.calls[0][0];
    const url = new URL(typeof input === 'string' ? input : input.url);
    expect(url.origin + url.pathname).toBe('http://localhost:8888/lab-base/executorlab/api/status');
  });

  it('raises a ResponseError carrying the server message on an error status', async () => {
    const fetch = () => Promise.resolve(jsonResponse({ message: 'bridge is not running' }, 503));
    const call = requestAPI('api/tasks', {}, makeSettings({ fetch }));
    await expect(call).rejects.toBeInstanceOf(ServerConnection.ResponseError);
    await expect(requestAPI('api/tasks', {}, makeSettings({ fetch }))).rejects.toThrow(
      'bridge is not running'
    );
  });

  it('raises a NetworkError when the server cannot be reached', async () => {
    const fetch = () => Promise.reject(new TypeError('Failed to fetch'));
    await expect(requestAPI('api/status', {}, makeSettings({ fetch }))).rejects.toBeInstanceOf(
      ServerConnection.NetworkError
    );
  });
});
