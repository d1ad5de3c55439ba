import { Signal } from '@lumino/signaling';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { BridgeConnection } from '../src/bridge/connection';
import { ConnectionStatus, IBridgeConnection } from '../src/tokens';
import {
  IUsageHistory,
  IUsageSample,
  IWorkerUsage,
  parseUsageEvent,
  UsageModel,
  USAGE_PATH
} from '../src/usage/model';
import { FakeWebSocket, makeSettings } from './helpers';

const T0 = 1_763_700_000_000;

function sample(i: number, over: Partial<IUsageSample> = {}): IUsageSample {
  return {
    t: T0 + i * 1000,
    cores_busy: i % 3,
    cores_total: 4,
    gpus_busy: 0,
    gpus_total: 0,
    queued: i,
    running: 1,
    ...over
  };
}

const WORKER: IWorkerUsage = {
  worker_id: 'w-1',
  executor_id: 'e-1',
  host: 'node1',
  pid: 4242,
  ranks: 1,
  cpu_percent: 97.5,
  rss: 40_000_000,
  updated: T0
};

/** A stand-in for the bridge's `GET api/usage[?since=]`: records the paths asked for. */
class FakeUsageAPI {
  samples: IUsageSample[] = [sample(0), sample(1), sample(2)];
  workers: IWorkerUsage[] = [WORKER];
  paths: string[] = [];
  fail: string | null = null;

  request = async <T>(path: string): Promise<T> => {
    this.paths.push(path);
    if (this.fail) {
      throw new Error(this.fail);
    }
    const since = /since=(\d+)/.exec(path);
    const samples = since ? this.samples.filter(s => s.t > Number(since[1])) : this.samples;
    const body: IUsageHistory = { interval_ms: 1000, samples, workers: this.workers };
    return body as unknown as T;
  };
}

/** Just the parts of the events connection the model uses. */
class FakeConnection {
  readonly eventReceived = new Signal<IBridgeConnection, unknown>(this as unknown as IBridgeConnection);
  readonly statusChanged = new Signal<IBridgeConnection, ConnectionStatus>(this as unknown as IBridgeConnection);
}

describe('parseUsageEvent', () => {
  it('reads a usage frame, as text or decoded, and leaves out malformed workers', () => {
    const event = { type: 'usage', sample: sample(1), workers: [WORKER, { worker_id: 3 }] };
    expect(parseUsageEvent(JSON.stringify(event))).toEqual({ type: 'usage', sample: sample(1), workers: [WORKER] });
    expect(parseUsageEvent(event)).toEqual({ type: 'usage', sample: sample(1), workers: [WORKER] });
  });

  it('is null for other events and malformed samples', () => {
    expect(parseUsageEvent(JSON.stringify({ type: 'tasks', tasks: [] }))).toBeNull();
    expect(parseUsageEvent('{"type": "usage"')).toBeNull();
    expect(parseUsageEvent({ type: 'usage', sample: { ...sample(1), cores_busy: 'many' }, workers: [] })).toBeNull();
    expect(parseUsageEvent(42)).toBeNull();
  });
});

describe('UsageModel', () => {
  let api: FakeUsageAPI;
  let connection: FakeConnection;
  let model: UsageModel;
  let now: number;

  beforeEach(() => {
    vi.useFakeTimers();
    api = new FakeUsageAPI();
    connection = new FakeConnection();
    now = T0 + 10_000;
    model = new UsageModel({
      request: api.request,
      connection: connection as unknown as IBridgeConnection,
      now: () => now
    });
  });

  afterEach(() => {
    model.dispose();
    vi.useRealTimers();
  });

  it('fetches nothing until a view is active, then the whole history', async () => {
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.paths).toEqual([]);
    model.active = true;
    await vi.advanceTimersByTimeAsync(0);
    expect(api.paths).toEqual([USAGE_PATH]);
    expect(model.samples.map(s => s.t)).toEqual([T0, T0 + 1000, T0 + 2000]);
    expect(model.workers).toEqual([WORKER]);
    expect(model.latest).toEqual(sample(2));
    expect(model.intervalMs).toBe(1000);
  });

  it('polls every 2 s for what is new while active, and stops when hidden', async () => {
    let changes = 0;
    model.changed.connect(() => changes++);
    model.active = true;
    await vi.advanceTimersByTimeAsync(0);
    api.samples.push(sample(3), sample(4));
    await vi.advanceTimersByTimeAsync(2000);
    expect(api.paths).toEqual([USAGE_PATH, `${USAGE_PATH}?since=${T0 + 2000}`]);
    expect(model.samples.map(s => s.t)).toEqual([0, 1, 2, 3, 4].map(i => T0 + i * 1000));
    expect(changes).toBe(2);
    model.active = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(api.paths).toHaveLength(2);
  });

  it('appends usage events, and skips polls while they keep coming', async () => {
    model.active = true;
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 3; i <= 5; i++) {
      now += 1000;
      connection.eventReceived.emit({ type: 'usage', sample: sample(i), workers: [] });
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(model.samples.map(s => s.t)).toEqual([0, 1, 2, 3, 4, 5].map(i => T0 + i * 1000));
    expect(model.workers).toEqual([]);
    expect(api.paths).toEqual([USAGE_PATH]);
    // An old or repeated sample is not appended; other events are ignored.
    connection.eventReceived.emit({ type: 'usage', sample: sample(4), workers: [] });
    connection.eventReceived.emit({ type: 'tasks', tasks: [] });
    expect(model.samples).toHaveLength(6);
    // The events stop: polling takes over.
    now += 4000;
    await vi.advanceTimersByTimeAsync(2000);
    expect(api.paths[1]).toBe(`${USAGE_PATH}?since=${T0 + 5000}`);
  });

  it('keeps at most historyMs of samples', async () => {
    model.dispose();
    model = new UsageModel({ request: api.request, historyMs: 1500, now: () => now });
    model.active = true;
    await vi.advanceTimersByTimeAsync(0);
    expect(model.samples.map(s => s.t)).toEqual([T0 + 1000, T0 + 2000]);
  });

  it('fetches the whole history again after a reconnection', async () => {
    model.active = true;
    await vi.advanceTimersByTimeAsync(0);
    api.samples = [sample(100)];
    connection.statusChanged.emit('connected');
    await vi.advanceTimersByTimeAsync(0);
    expect(api.paths).toEqual([USAGE_PATH, USAGE_PATH]);
    expect(model.samples).toEqual([sample(100)]);
  });

  it('says why a fetch failed, and recovers', async () => {
    api.fail = 'the executorlab bridge is not running';
    model.active = true;
    await vi.advanceTimersByTimeAsync(0);
    expect(model.error).toBe('the executorlab bridge is not running');
    api.fail = null;
    await vi.advanceTimersByTimeAsync(2000);
    expect(model.error).toBeNull();
    expect(model.samples).toHaveLength(3);
  });

  it('fetches api/usage through the server extension by default', async () => {
    const paths: string[] = [];
    const settings = makeSettings({
      fetch: (input: RequestInfo | URL) => {
        paths.push(String(input instanceof Request ? input.url : input));
        return Promise.resolve(
          new Response(JSON.stringify({ interval_ms: 1000, samples: [sample(0)], workers: [] }), { status: 200 })
        );
      }
    });
    FakeWebSocket.reset();
    const real = new BridgeConnection({ serverSettings: settings });
    const viaServer = new UsageModel({ serverSettings: settings, connection: real });
    viaServer.active = true;
    await vi.advanceTimersByTimeAsync(0);
    expect(paths.map(p => p.replace(/\?.*/, ''))).toContain('http://localhost:8888/lab-base/executorlab/api/usage');
    expect(viaServer.samples).toEqual([sample(0)]);
    viaServer.dispose();
    real.dispose();
  });
});
