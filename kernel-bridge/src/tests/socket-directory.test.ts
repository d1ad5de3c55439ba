// The private directory of a bridge's IPC sockets, and the sweep of directories left by killed bridges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createSocketDirectory } from '../transport/socket-directory.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'socket-directory-test-'));
}

test('a bridge gets a directory only its user can enter, and removes those of bridges that are gone', () => {
  const base = scratch();
  try {
    const first = createSocketDirectory(base);
    assert.equal(statSync(first).mode & 0o777, 0o700);
    assert.equal(statSync(dirname(first)).mode & 0o777, 0o700);
    assert.match(basename(first), new RegExp(`^${process.pid}-`));
    // A bridge that was killed: its pid is no process any more.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const left = join(dirname(first), `${dead}-abcdef`);
    mkdirSync(left, { mode: 0o700 });
    const second = createSocketDirectory(base);
    assert.equal(existsSync(left), false, 'the killed bridge\'s directory is removed');
    assert.equal(existsSync(first), true, 'a live bridge\'s directory is kept');
    assert.notEqual(second, first);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a shared parent that is not ours is not used', { skip: process.getuid?.() !== 0 ? 'needs root to chown' : false }, () => {
  const base = scratch();
  try {
    const parent = join(base, `executorlab-sockets-${process.getuid!()}`);
    mkdirSync(parent, { mode: 0o700 });
    chownSync(parent, 65534, 65534);
    const directory = createSocketDirectory(base);
    assert.equal(dirname(directory), base, 'falls back to a fresh directory of its own');
    assert.equal(statSync(directory).mode & 0o777, 0o700);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
