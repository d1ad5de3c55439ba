import { describe, expect, it } from 'vitest';

import { Backoff } from '../src/bridge/backoff';

describe('Backoff', () => {
  it('doubles from 0.5 s up to 5 s', () => {
    const backoff = new Backoff();
    const delays = Array.from({ length: 7 }, () => backoff.next());
    expect(delays).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff(100, 1000);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
