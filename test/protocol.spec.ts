import { describe, expect, it, vi } from 'vitest';

import { isTaskView, parseBridgeEvent } from '../src/bridge/protocol';
import { makeTask } from './helpers';

describe('parseBridgeEvent', () => {
  it('decodes a snapshot', () => {
    const task = makeTask({ state: 'running', started_at: 5 });
    const event = parseBridgeEvent(JSON.stringify({ type: 'snapshot', tasks: [task] }));
    expect(event).toEqual({ type: 'snapshot', tasks: [task] });
  });

  it('decodes a batch of changed tasks', () => {
    const event = parseBridgeEvent(
      JSON.stringify({ type: 'tasks', tasks: [makeTask({ id: 'a' }), makeTask({ id: 'b' })] })
    );
    expect(event?.type).toBe('tasks');
    expect(event?.type === 'tasks' && event.tasks.map(t => t.id)).toEqual(['a', 'b']);
  });

  it('drops malformed tasks but keeps the valid ones', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const event = parseBridgeEvent(
      JSON.stringify({
        type: 'tasks',
        tasks: [makeTask({ id: 'ok' }), { ...makeTask({ id: 'bad' }), state: 'exploded' }, 7]
      })
    );
    expect(event?.type === 'tasks' && event.tasks.map(t => t.id)).toEqual(['ok']);
  });

  it('ignores unknown types, non-JSON, binary frames and missing task lists', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(parseBridgeEvent(JSON.stringify({ type: 'resources', hosts: [] }))).toBeNull();
    expect(parseBridgeEvent('{not json')).toBeNull();
    expect(parseBridgeEvent(new ArrayBuffer(4))).toBeNull();
    expect(parseBridgeEvent(JSON.stringify({ type: 'snapshot' }))).toBeNull();
    expect(parseBridgeEvent(JSON.stringify([1, 2]))).toBeNull();
  });
});

describe('isTaskView', () => {
  it('accepts every documented state', () => {
    for (const state of ['waiting', 'queued', 'running', 'done', 'error', 'cancelled'] as const) {
      expect(isTaskView(makeTask({ state }))).toBe(true);
    }
  });

  it('rejects records with wrong field types', () => {
    expect(isTaskView({ ...makeTask(), submitted_at: '2024' })).toBe(false);
    expect(isTaskView({ ...makeTask(), runtime: '1.0' })).toBe(false);
    expect(isTaskView({ ...makeTask(), resources: { cores: 1 } })).toBe(false);
    expect(isTaskView({ ...makeTask(), error_type: 3 })).toBe(false);
    expect(isTaskView(null)).toBe(false);
  });
});
