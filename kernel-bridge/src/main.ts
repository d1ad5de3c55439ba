// Command line: node bridge.js --connection-file PATH [--zmq-host H] [--http-port N] [--exit-with-parent PID]
import { parseArgs } from 'node:util';
import { Bridge, DEFAULT_WORKER_SILENCE_LIMIT_MS } from './bridge.js';
import { defaultCacheRoots } from './cache/browser.js';

const USAGE = `usage: executorlab-bridge --connection-file PATH [--zmq-host 127.0.0.1] [--worker-host H] [--http-host 127.0.0.1]
       [--http-port 0] [--max-message-mb 2048] [--client-timeout SECONDS] [--worker-silence-limit SECONDS]
       [--exit-with-parent PID]
       [--cache-root DIR ...] [--python PATH] [--pythonpath DIR ...]
The client timeout defaults to $EXECUTORLAB_CLIENT_TIMEOUT or 15 s. A worker silent for longer than
--worker-silence-limit (default $EXECUTORLAB_WORKER_SILENCE_LIMIT or 10 s; at least 1, or 0 for never) fails its
call and is killed: its node is down or cut off. The cache browser opens cache
directories inside a --cache-root (default: the home and temporary folders) or used by a kernel. The workers' endpoint
binds --worker-host (default: $EXECUTORLAB_WORKER_HOST, else 0.0.0.0 inside a multi-node SLURM job or a flux
instance, where workers start on other nodes, else the --zmq-host). Executors started from the panel run
--python (default $EXECUTORLAB_PYTHON or /usr/bin/python3) with --pythonpath folders on PYTHONPATH.`;

function fail(message: string): never {
  process.stderr.write(`executorlab-bridge: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Seconds (fractions allowed) as ms: 0 (off) or at least 1 s. */
function silenceLimit(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_WORKER_SILENCE_LIMIT_MS;
  const n = Number(value);
  if (!Number.isFinite(n) || (n !== 0 && n < 1)) {
    fail(`--worker-silence-limit must be 0 (never) or a number of seconds of at least 1, got ${JSON.stringify(value)}`);
  }
  return n * 1000;
}

function log(line: string): void {
  process.stderr.write(`[executorlab-bridge ${new Date().toISOString()}] ${line}\n`);
}

/**
 * Workers on other nodes of the bridge's own allocation (a multi-node SLURM job, a flux instance) connect
 * over TCP, so the worker endpoint listens on every interface there (CURVE keeps strangers out).
 */
function defaultWorkerHost(zmqHost: string, env: NodeJS.ProcessEnv): string {
  const nodes = Number(env.SLURM_JOB_NUM_NODES ?? env.SLURM_NNODES ?? 1);
  return nodes > 1 || env.FLUX_URI ? '0.0.0.0' : zmqHost;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'connection-file': { type: 'string' },
        'zmq-host': { type: 'string', default: '127.0.0.1' },
        'worker-host': { type: 'string', default: process.env.EXECUTORLAB_WORKER_HOST },
        'http-host': { type: 'string', default: '127.0.0.1' },
        'http-port': { type: 'string' },
        'max-message-mb': { type: 'string' },
        'client-timeout': { type: 'string', default: process.env.EXECUTORLAB_CLIENT_TIMEOUT },
        'worker-silence-limit': { type: 'string', default: process.env.EXECUTORLAB_WORKER_SILENCE_LIMIT },
        'exit-with-parent': { type: 'string' },
        'cache-root': { type: 'string', multiple: true },
        python: { type: 'string', default: process.env.EXECUTORLAB_PYTHON ?? '/usr/bin/python3' },
        pythonpath: { type: 'string', multiple: true }
      },
      strict: true
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  const connectionFile = values['connection-file'] ?? fail('--connection-file is required');
  if (!connectionFile.endsWith('.json')) fail('--connection-file must end in .json');
  const bridge = new Bridge({
    connectionFile,
    zmqHost: values['zmq-host']!,
    workerHost: values['worker-host'] ?? defaultWorkerHost(values['zmq-host']!, process.env),
    httpHost: values['http-host']!,
    httpPort: intOption('http-port', values['http-port'], 0),
    maxMessageBytes: intOption('max-message-mb', values['max-message-mb'], 2048) * 1024 * 1024,
    clientTimeoutMs: Math.max(1, intOption('client-timeout', values['client-timeout'], 15)) * 1000,
    workerSilenceLimitMs: silenceLimit(values['worker-silence-limit']),
    cacheRoots: values['cache-root'] ?? defaultCacheRoots(),
    python: values.python!,
    pythonpath: values.pythonpath ?? [],
    log
  });

  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log(`stopping: ${why}`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await bridge.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('uncaughtException', error => log(`uncaught: ${error.stack ?? error}`));
  process.on('unhandledRejection', error => log(`unhandled rejection: ${(error as Error)?.stack ?? error}`));

  const parent = values['exit-with-parent'];
  if (parent !== undefined) {
    const pid = intOption('exit-with-parent', parent, 0);
    // A private bridge must not outlive the script that started it.
    setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch {
        void stop(`parent process ${pid} is gone`);
      }
    }, 1000).unref();
  }

  const info = await bridge.start();
  log(`ready: clients ${info.client_endpoint}, http ${info.http_url}, pid ${process.pid}`);
  process.stdout.write(`EXECUTORLAB_BRIDGE_READY ${connectionFile}\n`);
}

main().catch(error => {
  log(`failed to start: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
