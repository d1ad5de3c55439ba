import { ISignal } from '@lumino/signaling';
import { useEffect, useState } from 'react';

/**
 * Re-render the calling component whenever `signal` fires.
 */
export function useSignalVersion<T>(signal: ISignal<T, unknown>): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion(v => v + 1);
    signal.connect(bump);
    return () => {
      signal.disconnect(bump);
    };
  }, [signal]);
  return version;
}

/**
 * The current time in epoch milliseconds, refreshed every `intervalMs` while
 * `active` (e.g. while some task is running) and frozen otherwise.
 */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) {
      return;
    }
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return active ? now : Date.now();
}
