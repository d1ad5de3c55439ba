// The private directory holding a bridge's IPC sockets: <tmp>/executorlab-sockets-<uid>/<pid>-XXXXXX,
// mode 0700, which is what keeps other users out of sockets without CURVE. A bridge that was killed
// cannot remove its own; the next bridge of the same user removes those whose process is gone.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove the directories of bridges that are gone; returns their names. */
export function sweepSocketDirectories(parent: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) {
      rmSync(join(parent, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

export function createSocketDirectory(base = tmpdir()): string {
  const uid = process.getuid?.() ?? 0;
  const parent = join(base, `executorlab-sockets-${uid}`);
  try {
    mkdirSync(parent, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stat = lstatSync(parent);
  // Not a directory of ours that only we can enter (a symlink, someone else's): do not use it.
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) return mkdtempSync(join(base, 'executorlab-'));
  sweepSocketDirectories(parent);
  return mkdtempSync(join(parent, `${process.pid}-`));
}
