// Files that tell kernels and workers where the bridge is and which keys to use. Written mode 0600
// under a temporary name and renamed, so nobody reads a half file or someone else's keys.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

export interface ConnectionInfo {
  version: 1;
  instance_id: string;
  pid: number;
  started: number;
  /** The host the bridge runs on: kernels there use `client_ipc_endpoint`, others `client_endpoint`. */
  hostname: string;
  /** TCP with CURVE. */
  client_endpoint: string;
  /** IPC in a directory only this user can enter; no CURVE. */
  client_ipc_endpoint: string;
  server_public_key: string;
  client_public_key: string;
  client_secret_key: string;
  http_url: string;
  token: string;
}

/** What a worker needs: its endpoint and its own key pair. */
export interface WorkerCredentials {
  version: 1;
  instance_id: string;
  hostname: string;
  worker_endpoint: string;
  worker_ipc_endpoint: string;
  server_public_key: string;
  public_key: string;
  secret_key: string;
}

export async function writePrivateJson(path: string, content: object): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true });
}
