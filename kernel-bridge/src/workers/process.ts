// One worker process (or one mpiexec of them): started with execa, known to the hub once it says
// hello, and watched so that its death fails what it runs instead of leaving a future hanging.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { execa, type ResultPromise } from 'execa';
import type { RunHooks, TaskOutcome } from '../backends/backend.js';
import type { Task } from '../scheduler/task.js';
import type { InitOutcome, Silence, WorkerConnection, WorkerHub } from './hub.js';
import { takeJournal } from './journal.js';

export interface WorkerSpawn {
  /** Full command line; `workerId` must be the id passed to it as --worker-id. */
  command: string[];
  workerId: string;
  cwd: string | null;
  /** Added to the bridge's own environment. */
  env: Record<string, string>;
  /** The command is an MPI launcher: its ranks end only if it is asked (SIGTERM) rather than killed. */
  viaLauncher?: boolean;
  /** The worker's journal file (`--journal`), read if it dies. */
  journal?: string;
  /** Its executor, for the usage view (else the hub learns it from the worker's first task). */
  executorId?: string;
}

const TAIL_BYTES = 4096;
const STOP_GRACE_MS = 3000;
/** How long a launcher gets to take its ranks down after SIGTERM before it is killed outright. */
const LAUNCHER_GRACE_MS = 5000;

export function newWorkerId(): string {
  return `w-${randomUUID()}`;
}

export class WorkerStartError extends Error {}

export class WorkerProcess {
  private output = '';
  private alive = true;
  /** Set while the worker runs the init_function, so its death can be reported as the failure of it. */
  private initStarted: number | null = null;
  /** Resolves with a sentence saying how the process ended, or that it was given up as silent (see silent()). */
  readonly exited: Promise<string>;
  /** Set when the hub found the worker silent for longer than the limit. */
  private silence: Silence | null = null;
  private giveUp: (why: string) => void = () => {};
  private childDone = false;
  private constructor(
    private readonly hub: WorkerHub,
    private readonly child: ResultPromise,
    readonly conn: WorkerConnection,
    /** Resolves with a sentence saying how the process ended. */
    childExited: Promise<string>,
    private readonly describe: string,
    private readonly viaLauncher: boolean,
    private readonly journal: string | undefined
  ) {
    void childExited.then(() => (this.childDone = true));
    this.exited = Promise.race([childExited, new Promise<string>(resolve => (this.giveUp = resolve))]);
    hub.onSilent(conn, silence => this.silent(silence));
    // One handler for the whole life of the process, however many tasks a warm worker runs.
    void this.exited.then(why => {
      this.alive = false;
      const journal = this.journal ? takeJournal(this.journal) : null;
      this.hub.lost(this.conn, running => {
        if (this.silence) return this.silentOutcome(this.silence, running?.fnName ?? (this.initStarted !== null ? 'init_function' : null), running?.startedAt ?? this.initStarted ?? Date.now());
        if (running?.resultLost) return this.lostOutcome(`${running.fnName} finished, but its result was lost: the ${why} right after`, running.startedAt);
        if (running) return this.lostOutcome(`${why} while running ${running.fnName}`, running.startedAt);
        if (this.initStarted !== null) return this.lostOutcome(`${why} while running init_function`, this.initStarted);
        return this.lostOutcome(why, Date.now());
      }, journal);
    });
  }

  /**
   * The worker sent nothing (no heartbeat, no echo) for longer than the limit: its node is down or cut
   * off, or the process is stopped. Its call fails now, naming the host and the silence, and the process
   * is killed: the launcher (srun, flux run, mpiexec) here, and the worker itself when it runs on this host.
   */
  private silent(silence: Silence): void {
    if (!this.alive) return;
    this.silence = silence;
    if (silence.host === hostname() && this.conn.pid !== this.child.pid) {
      try {
        process.kill(this.conn.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.child.kill(this.viaLauncher ? 'SIGTERM' : 'SIGKILL');
    if (this.viaLauncher) setTimeout(() => !this.childDone && this.child.kill('SIGKILL'), LAUNCHER_GRACE_MS).unref();
    this.giveUp(this.silenceText(silence, null));
  }

  private silenceText(silence: Silence, running: string | null): string {
    return (
      `worker ${this.describe} on ${silence.host} (pid ${silence.pid}) was silent for ${silence.seconds.toFixed(1)} s` +
      (running ? ` while running ${running}` : '') +
      ` (the limit is ${silence.limitSeconds} s: --worker-silence-limit, $EXECUTORLAB_WORKER_SILENCE_LIMIT): ` +
      `its node may be down or cut off, or the process stopped; the worker was killed`
    );
  }

  private silentOutcome(silence: Silence, running: string | null, started: number): TaskOutcome {
    return this.lostOutcome(this.silenceText(silence, running), started);
  }

  /** Start the process and wait for its hello; throws WorkerStartError if it dies first. */
  static async start(hub: WorkerHub, spawn: WorkerSpawn, onOutput?: (text: string) => void): Promise<WorkerProcess> {
    const [file, ...args] = spawn.command;
    const hello = hub.expect(spawn.workerId, spawn.executorId ?? null);
    const child = execa(file, args, {
      cwd: spawn.cwd ?? undefined,
      env: spawn.env,
      stdin: 'ignore',
      all: true,
      buffer: false,
      reject: false
    });
    let output = '';
    child.all?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-TAIL_BYTES);
      onOutput?.(text);
    });
    const describe = `\`${[file, ...args].slice(0, 4).join(' ')} …\``;
    const exited = child.then(result => {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
      const spawnError = result.failed && result.exitCode === undefined && !result.signal ? `: ${result.shortMessage}` : '';
      return `worker process ${describe} ${how}${spawnError}`;
    });
    const first = await Promise.race([hello, exited]);
    if (typeof first === 'string') {
      if (spawn.journal) takeJournal(spawn.journal);
      hub.forget(spawn.workerId, first);
      throw new WorkerStartError(`${first} before it connected${output ? `; its last output:\n${output}` : ''}`);
    }
    const worker = new WorkerProcess(hub, child, first, exited, describe, spawn.viaLauncher ?? false, spawn.journal);
    child.all?.on('data', (chunk: Buffer) => (worker.output = (worker.output + chunk.toString('utf8')).slice(-TAIL_BYTES)));
    worker.output = output;
    return worker;
  }

  get running(): boolean {
    return this.alive;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Run a task; if the process dies while running it the outcome says how, with its last output.
   * A warm worker may be given the next tasks before it finishes this one: those resolve with null if
   * it dies before starting them, and `drop` takes one back.
   */
  async run(task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome | null> {
    if (!this.alive) return null;
    return this.hub.run(this.conn, task, inputs, hooks);
  }

  /** Take back a task given ahead that the worker has not started; false if it runs it (or never had it). */
  drop(taskId: string): boolean {
    const message = 'cancelled before it started';
    return this.hub.drop(this.conn, taskId, {
      ok: false,
      runtime: 0,
      failure: { error_type: 'CancelledError', error_message: message, traceback: message },
      exception: null
    });
  }

  /** Block allocation: run the init_function (its cloudpickled blob) in the worker, on every rank. */
  async init(blob: Buffer): Promise<InitOutcome> {
    const started = Date.now();
    if (!this.alive) {
      const lost = this.lostOutcome(`${await this.exited} before running init_function`, started);
      return lost.ok ? { ok: true } : { ok: false, failure: lost.failure, exception: lost.exception };
    }
    this.initStarted = started;
    try {
      return await this.hub.init(this.conn, blob);
    } finally {
      this.initStarted = null;
    }
  }

  lostOutcome(why: string, started: number): TaskOutcome {
    return {
      ok: false,
      runtime: (Date.now() - started) / 1000,
      failure: {
        error_type: 'ExecutorlabWorkerError',
        error_message: why,
        traceback: this.output ? `${why}\nlast output of the worker:\n${this.output}` : why
      },
      exception: null
    };
  }

  /** End the process now. A launcher gets SIGTERM so it takes its ranks down; SIGKILL would orphan them. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.alive) return;
    if (!this.viaLauncher || signal !== 'SIGKILL') {
      this.child.kill(signal);
      return;
    }
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.alive && this.child.kill('SIGKILL'), LAUNCHER_GRACE_MS);
    void this.exited.then(() => clearTimeout(timer));
  }

  /** Ask it to leave, kill it if it does not within a grace period. */
  async stop(): Promise<void> {
    if (this.alive) await this.hub.stop(this.conn);
    const timer = setTimeout(() => this.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  get description(): string {
    return this.describe;
  }
}
