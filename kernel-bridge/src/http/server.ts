// The bridge's HTTP + WebSocket API for the Jupyter server extension: 127.0.0.1 only, every request
// carries the token from the connection file.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { CacheRequestError, type CacheBrowser } from '../cache/browser.js';
import type { EventHub } from '../events/hub.js';

export interface ApiRoutes {
  status(): unknown;
  tasks(): unknown;
  /** One task with its captured output; null when unknown. */
  task(id: string): unknown | null;
  /** Cancel (kill if running); false when the task is unknown or already finished. */
  cancel(id: string): boolean;
  executors(): unknown;
  /** Start an executor from the panel; a RequestError's message is the reason it was refused. */
  createExecutor(body: Record<string, unknown>): Promise<unknown>;
  /** Stop an executor started from the panel: its queued calls are cancelled, its workers stopped. */
  stopExecutor(id: string): Promise<boolean>;
  cache: Pick<CacheBrowser, 'list' | 'entry' | 'remove' | 'clean'>;
  /** Cache directories kernels used, for the cache browser's directory picker. */
  cacheDirectories(): string[];
  /** Resource usage history (samples after `since`, epoch ms, when given) and the workers' latest heartbeats. */
  usage?(since?: number): unknown;
}

const MAX_BODY = 16 << 20;

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new CacheRequestError(`request body over ${MAX_BODY} bytes`, 400));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
        resolve(body);
      } catch {
        reject(new CacheRequestError('the request body must be a JSON object', 400));
      }
    });
    req.on('error', reject);
  });
}

function integer(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  return value === null ? undefined : Number(value);
}

function tokenOf(req: IncomingMessage, url: URL): string {
  const auth = req.headers.authorization ?? '';
  const match = /^token\s+(\S+)$/i.exec(auth);
  return match ? match[1] : (url.searchParams.get('token') ?? '');
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export class ApiServer {
  private readonly server = createServer((req, res) => this.request(req, res));
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  url = '';

  constructor(
    private readonly token: string,
    private readonly routes: ApiRoutes,
    private readonly events: EventHub
  ) {
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://bridge');
      if (!sameToken(tokenOf(req, url), this.token) || url.pathname !== '/api/events') {
        socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, ws => this.events.add(ws));
    });
  }

  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address();
        if (!address || typeof address === 'string') return reject(new Error('no TCP address'));
        this.url = `http://${host}:${address.port}`;
        resolve(this.url);
      });
    });
  }

  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise(resolve => this.server.close(() => resolve()));
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://bridge');
    if (!sameToken(tokenOf(req, url), this.token)) return json(res, 403, { error: 'missing or wrong token' });
    const path = url.pathname;
    if (path.startsWith('/api/cache')) {
      this.cacheRequest(req, url).then(
        body => json(res, 200, body),
        error => {
          if (error instanceof CacheRequestError) json(res, error.status, { error: error.message });
          else json(res, 500, { error: (error as Error).message ?? String(error) });
        }
      );
      return;
    }
    if (req.method === 'POST' && (path === '/api/executors' || /^\/api\/executors\/[A-Za-z0-9_.:-]{1,128}\/shutdown$/.test(path))) {
      this.executorRequest(req, path).then(
        ([status, body]) => json(res, status, body),
        error => json(res, 500, { error: (error as Error).message ?? String(error) })
      );
      return;
    }
    const taskMatch = /^\/api\/tasks\/([A-Za-z0-9_.:-]{1,128})(\/cancel)?$/.exec(path);
    if (req.method === 'POST' && taskMatch?.[2]) {
      const cancelled = this.routes.cancel(taskMatch[1]);
      return json(res, cancelled ? 200 : 409, cancelled ? { cancelled: true } : { error: 'no such unfinished task' });
    }
    if (req.method !== 'GET') return json(res, 405, { error: `${req.method} ${path} is not allowed` });
    if (path === '/api/status') return json(res, 200, this.routes.status());
    if (path === '/api/tasks') return json(res, 200, this.routes.tasks());
    if (path === '/api/executors') return json(res, 200, this.routes.executors());
    if (path === '/api/usage' && this.routes.usage) {
      const since = integer(url, 'since');
      if (since !== undefined && !Number.isFinite(since)) return json(res, 400, { error: 'since must be epoch milliseconds' });
      return json(res, 200, this.routes.usage(since));
    }
    if (taskMatch && !taskMatch[2]) {
      const task = this.routes.task(taskMatch[1]);
      return task ? json(res, 200, task) : json(res, 404, { error: `no task ${taskMatch[1]}` });
    }
    return json(res, 404, {
      error: `no such endpoint ${path}; try /api/status, /api/tasks, /api/executors, /api/usage, /api/tasks/<id>, POST /api/tasks/<id>/cancel, /api/cache, /api/events`
    });
  }

  private async executorRequest(req: IncomingMessage, path: string): Promise<[number, unknown]> {
    if (path === '/api/executors') {
      let body: Record<string, unknown>;
      try {
        body = await readBody(req);
      } catch (error) {
        return [400, { error: (error as Error).message }];
      }
      try {
        return [200, { executor: await this.routes.createExecutor(body) }];
      } catch (error) {
        const message = (error as Error).message;
        return [/in use/.test(message) ? 409 : 400, { error: message }];
      }
    }
    const id = path.split('/')[3];
    return (await this.routes.stopExecutor(id)) ? [200, { ok: true }] : [404, { error: `no executor ${id} started from the panel` }];
  }

  private async cacheRequest(req: IncomingMessage, url: URL): Promise<unknown> {
    const cache = this.routes.cache;
    const route = `${req.method} ${url.pathname}`;
    const directory = url.searchParams.get('directory');
    if (route === 'GET /api/cache/directories') return { directories: this.routes.cacheDirectories() };
    if (route === 'GET /api/cache') {
      return cache.list(directory, {
        sort: url.searchParams.get('sort') ?? undefined,
        order: url.searchParams.get('order') ?? undefined,
        offset: integer(url, 'offset'),
        limit: integer(url, 'limit')
      });
    }
    if (route === 'GET /api/cache/entry') return cache.entry(directory, url.searchParams.get('file'));
    if (route === 'POST /api/cache/delete') {
      const body = await readBody(req);
      return cache.remove(body.directory, body.files);
    }
    if (route === 'POST /api/cache/clean') {
      const body = await readBody(req);
      return cache.clean(body.directory, body);
    }
    throw new CacheRequestError(
      `no such endpoint ${route}; try GET /api/cache?directory=, GET /api/cache/directories, GET /api/cache/entry?directory=&file=, POST /api/cache/delete, POST /api/cache/clean`,
      404
    );
  }
}
