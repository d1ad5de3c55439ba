import { TranslationBundle } from '@jupyterlab/translation';

/**
 * Bytes in decimal units as file managers show them: "512 B", "1.5 kB", "23 MB", "1.2 GB".
 */
export function formatBytes(bytes: number, trans: TranslationBundle): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return '–';
  }
  if (bytes < 1000) {
    return trans.__('%1 B', Math.round(bytes));
  }
  const units = [
    (n: string) => trans.__('%1 kB', n),
    (n: string) => trans.__('%1 MB', n),
    (n: string) => trans.__('%1 GB', n),
    (n: string) => trans.__('%1 TB', n)
  ];
  let value = bytes / 1000;
  let unit = 0;
  // Round first so 999,950 bytes reads "1.0 MB", not "1000 kB".
  while (unit < units.length - 1 && round(value) >= 1000) {
    value /= 1000;
    unit++;
  }
  return units[unit](value < 10 ? value.toFixed(1) : String(Math.round(value)));
}

function round(value: number): number {
  return value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
}

/**
 * A time as ISO 8601 in UTC without milliseconds: "2025-11-21T04:40:00Z".
 */
export function formatISOTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * How long ago `epochSeconds` was, seen at `nowMs`: "just now", "5 min ago", "3 h ago",
 * "2 days ago"; a date (YYYY-MM-DD, local) beyond 30 days or in the future.
 */
export function formatRelativeTime(
  epochSeconds: number,
  nowMs: number,
  trans: TranslationBundle
): string {
  const seconds = Math.floor(nowMs / 1000 - epochSeconds);
  if (seconds < -60 || seconds >= 30 * 86_400) {
    return localDate(epochSeconds);
  }
  if (seconds < 60) {
    return trans.__('just now');
  }
  if (seconds < 3600) {
    return trans.__('%1 min ago', Math.floor(seconds / 60));
  }
  if (seconds < 86_400) {
    return trans.__('%1 h ago', Math.floor(seconds / 3600));
  }
  const days = Math.floor(seconds / 86_400);
  return trans._n('%1 day ago', '%1 days ago', days);
}

function localDate(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
