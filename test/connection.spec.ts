import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { BridgeConnection } from '../src/bridge/connection';
import { BridgeEvent, ConnectionStatus } from '../src/tokens';
import { FakeWebSocket, makeSettings, makeTask } from './helpers';

function record(connection: BridgeConnection) {
  const statuses: ConnectionStatus[] = [];
  const events: BridgeEvent[] = [];
  connection.statusChanged.connect((_, s) => statuses.push(s));
  connection.eventReceived.connect((_, e) => events.push(e));
  return { statuses, events };
}

describe('BridgeConnection', () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens <wsUrl>/executorlab/api/events without a token when the page has none', () => {
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    expect(FakeWebSocket.last.url).toBe('ws://localhost:8888/lab-base/executorlab/api/events');
    expect(connection.status).toBe('connecting');
    connection.dispose();
  });

  it("passes Jupyter's token as a query parameter", () => {
    const connection = new BridgeConnection({
      serverSettings: makeSettings({ token: 'a b&c' })
    });
    expect(FakeWebSocket.last.url).toBe(
      'ws://localhost:8888/lab-base/executorlab/api/events?token=a%20b%26c'
    );
    connection.dispose();
  });

  it('is connected once the snapshot arrived, and forwards events', async () => {
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    const { statuses, events } = record(connection);
    const socket = FakeWebSocket.last;
    socket.open();
    expect(connection.status).toBe('connecting');
    socket.push({ type: 'snapshot', tasks: [makeTask()] });
    socket.push({ type: 'tasks', tasks: [makeTask({ state: 'running', started_at: 1 })] });
    expect(statuses).toEqual(['connected']);
    expect(events.map(e => e.type)).toEqual(['snapshot', 'tasks']);
    await vi.waitFor(() => expect(connection.bridgeStatus?.version).toBe('0.1.0'));
    connection.dispose();
  });

  it('reconnects with growing delays while the bridge is unreachable', () => {
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    const { statuses } = record(connection);
    FakeWebSocket.last.drop();
    expect(connection.status).toBe('disconnected');
    expect(FakeWebSocket.instances).toHaveLength(1);

    vi.advanceTimersByTime(499);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(2);

    FakeWebSocket.last.drop();
    vi.advanceTimersByTime(999);
    expect(FakeWebSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(3);

    // Still one "disconnected" notification, not one per failed attempt.
    expect(statuses).toEqual(['disconnected']);
    connection.dispose();
  });

  it('never waits longer than the maximum delay', () => {
    const connection = new BridgeConnection({
      serverSettings: makeSettings(),
      minReconnectDelay: 500,
      maxReconnectDelay: 5000
    });
    for (let attempt = 0; attempt < 6; attempt++) {
      FakeWebSocket.last.drop();
      vi.advanceTimersByTime(5000);
    }
    expect(FakeWebSocket.instances).toHaveLength(7);
    connection.dispose();
  });

  it('keeps backing off when a socket opens but closes before any snapshot', () => {
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    FakeWebSocket.last.drop();
    vi.advanceTimersByTime(500);
    FakeWebSocket.last.open();
    FakeWebSocket.last.drop();
    vi.advanceTimersByTime(500);
    expect(FakeWebSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(500);
    expect(FakeWebSocket.instances).toHaveLength(3);
    connection.dispose();
  });

  it('starts the backoff over after a successful snapshot', () => {
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    FakeWebSocket.last.drop();
    vi.advanceTimersByTime(500);
    FakeWebSocket.last.drop();
    vi.advanceTimersByTime(1000);
    FakeWebSocket.last.push({ type: 'snapshot', tasks: [] });
    expect(connection.status).toBe('connected');

    FakeWebSocket.last.drop();
    expect(connection.status).toBe('disconnected');
    vi.advanceTimersByTime(500);
    expect(FakeWebSocket.instances).toHaveLength(4);
    connection.dispose();
  });

  it('reconnect() opens a new socket at once and closes the old one', () => {
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    const first = FakeWebSocket.last;
    first.drop();
    connection.reconnect();
    expect(FakeWebSocket.instances).toHaveLength(2);
    // The pending backoff timer was cancelled.
    vi.advanceTimersByTime(10_000);
    expect(FakeWebSocket.instances).toHaveLength(2);
    connection.dispose();
  });

  it('ignores frames from a socket it already replaced', () => {
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    const { events } = record(connection);
    const stale = FakeWebSocket.last;
    const staleOnMessage = stale.onmessage;
    connection.reconnect();
    expect(stale.closed).toBe(true);
    staleOnMessage?.(new MessageEvent('message', { data: '{"type":"snapshot","tasks":[]}' }));
    expect(events).toEqual([]);
    connection.dispose();
  });

  it('stops reconnecting once disposed', () => {
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    const socket = FakeWebSocket.last;
    connection.dispose();
    expect(socket.closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(connection.isDisposed).toBe(true);
  });

  it('forgets the bridge status when the socket closes', async () => {
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    FakeWebSocket.last.push({ type: 'snapshot', tasks: [] });
    await vi.waitFor(() => expect(connection.bridgeStatus).not.toBeNull());
    FakeWebSocket.last.drop();
    expect(connection.bridgeStatus).toBeNull();
    connection.dispose();
  });
});
