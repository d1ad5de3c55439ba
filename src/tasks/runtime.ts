import { TranslationBundle } from '@jupyterlab/translation';

import { ITaskView } from '../tokens';

/**
 * Seconds a task has run: live for running tasks (measured against `now`),
 * final once it finished, null before it started.
 */
export function taskRuntime(task: ITaskView, now: number): number | null {
  switch (task.state) {
    case 'running':
      // Browser and bridge clocks may disagree slightly; never show a negative time.
      return task.started_at === null
        ? null
        : Math.max(0, (now - task.started_at) / 1000);
    case 'done':
    case 'error':
    case 'cancelled':
      if (task.runtime !== null) {
        return task.runtime;
      }
      return task.started_at !== null && task.finished_at !== null
        ? Math.max(0, (task.finished_at - task.started_at) / 1000)
        : null;
    default:
      return null;
  }
}

/**
 * Human-readable duration: "0.4 s", "12 s", "3 min 05 s", "2 h 07 min".
 */
export function formatDuration(
  seconds: number | null,
  trans: TranslationBundle
): string {
  if (seconds === null || !Number.isFinite(seconds)) {
    return '–';
  }
  if (seconds < 10) {
    return trans.__('%1 s', seconds.toFixed(1));
  }
  const whole = Math.floor(seconds);
  if (whole < 60) {
    return trans.__('%1 s', whole);
  }
  if (whole < 3600) {
    return trans.__(
      '%1 min %2 s',
      Math.floor(whole / 60),
      pad(whole % 60)
    );
  }
  return trans.__(
    '%1 h %2 min',
    Math.floor(whole / 3600),
    pad(Math.floor((whole % 3600) / 60))
  );
}

function pad(n: number): string {
  return n.toString().padStart(2, '0');
}
