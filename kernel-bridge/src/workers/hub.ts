// The worker side of the bridge: who is connected, which task each one runs, and their replies.
import { decodeWorkerHeader, ProtocolError, type BridgeToWorker, type Failure, type WorkerMessage } from '../protocol/messages.js';
import type { RouterEndpoint } from '../transport/endpoint.js';
import { unbatch, type Unpacked } from '../protocol/batch.js';
import { outcomeOf, type Journal } from './journal.js';
import type { RunHooks, TaskOutcome } from '../backends/backend.js';
import type { Task } from '../scheduler/task.js';
import { cpuPercent, type WorkerUsageView } from '../resources/usage.js';

type StreamMessage = Extract<WorkerMessage, { type: 'stream' }>;

export interface WorkerConnection {
  readonly workerId: string;
  readonly peer: Buffer;
  readonly ranks: number;
  readonly host: string;
  readonly pid: number;
  /** `host:pid`, what the panel shows as where a call ran. */
  readonly where: string;
}

/** A task sent to a worker. A worker runs its tasks in the order it got them; the first one runs. */
interface Job {
  taskId: string;
  fnName: string;
  hooks: RunHooks;
  /** The worker's host and pid, for the panel. */
  where: string;
  /** When the worker started it (it became the first of its worker's jobs), else null. */
  startedAt: number | null;
  /** null: the worker went away before it started the task, which may run elsewhere. */
  resolve(outcome: TaskOutcome | null): void;
}

/** What a worker was running when it was lost, for the failure that reports it. */
export interface LostJob {
  fnName: string;
  startedAt: number;
  /** It finished, but its result went down with the process before it was sent. */
  resultLost?: boolean;
}

/** A connected worker that has sent nothing for longer than the silence limit. */
export interface Silence {
  host: string;
  pid: number;
  /** How long it has been silent, and the limit, in seconds. */
  seconds: number;
  limitSeconds: number;
}

/** How a worker's init_function went; a failure carries the pickled exception when it could be pickled. */
export type InitOutcome = { ok: true } | { ok: false; failure: Failure; exception: Buffer | null };

interface Expected {
  resolve(conn: WorkerConnection): void;
  reject(error: Error): void;
  executorId: string | null;
}

/** The latest heartbeat of a worker, and the CPU share computed from it and the one before. */
interface Usage {
  cpuSeconds: number;
  rss: number;
  host: string;
  pid: number;
  /** When the bridge got it (epoch ms). */
  at: number;
  cpuPercent: number | null;
}

export class WorkerHub {
  private endpoint: RouterEndpoint | null = null;
  private readonly expected = new Map<string, Expected>();
  private readonly byPeer = new Map<string, WorkerConnection>();
  /** Per worker (peer key): the jobs sent to it and not answered, in the order it runs them. */
  private readonly jobs = new Map<string, Job[]>();
  /** Tasks dropped from a worker's queue whose result may still come (it had started them): not an error. */
  private readonly dropped = new Set<string>();
  private readonly initializing = new Map<string, (outcome: InitOutcome) => void>();
  /** Per worker (peer key): its executor, when known (given to expect(), else learnt from its first task). */
  private readonly executorOf = new Map<string, string>();
  /** Per worker (peer key): its latest heartbeat; dropped when it leaves. */
  private readonly usage = new Map<string, Usage>();
  /** Worker id -> peer key of the connected workers: MPI ranks > 0 send their output naming the worker. */
  private readonly peerOfWorker = new Map<string, string>();
  /** Per MPI worker (peer key): its ranks' own sockets that sent output (key -> routing id), forgotten with it. */
  private readonly rankPeers = new Map<string, Map<string, Buffer>>();
  /**
   * Per MPI worker (peer key): the task it finished last. A rank's output travels on another socket than
   * rank 0's result, so it may arrive just after it; it still belongs to that task.
   */
  private readonly lastDone = new Map<string, Job>();
  /** Worker ids named by rank output that no connected worker has, logged once each. */
  private readonly unknownWorkers = new Set<string>();
  /** Per connected worker (peer key): when the bridge last heard from it (any message, or its echo). */
  private readonly lastHeard = new Map<string, number>();
  /** Worker id -> its echo socket (see WorkerEcho), and when the echo sent to it and not answered left. */
  private readonly echoes = new Map<string, { peer: Buffer; pending: number | null }>();
  /** Per connected worker (peer key): who is told when it is silent for longer than the limit. */
  private readonly silenceHandlers = new Map<string, (silence: Silence) => void>();
  /** Workers declared silent (peer keys): told once. */
  private readonly silenced = new Set<string>();
  private silenceLimitMs = 0;
  private silenceTimer: NodeJS.Timeout | null = null;
  /** When checkSilence() last ran. */
  private lastCheck: number | null = null;

  constructor(
    private readonly log: (line: string) => void,
    private readonly now: () => number = Date.now
  ) {}

  attach(endpoint: RouterEndpoint): void {
    this.endpoint = endpoint;
  }

  /**
   * Watch the connected workers: one silent (no message, no echo) for longer than `limitMs` is handed to
   * its onSilent handler, which fails its call and ends it. 0 turns the watch off. Every check (4 per
   * limit, at most one a second) also sends each worker's echo socket an `echo` to send back.
   */
  watchSilence(limitMs: number): void {
    if (this.silenceTimer) clearInterval(this.silenceTimer);
    this.silenceTimer = null;
    this.silenceLimitMs = limitMs;
    if (limitMs <= 0) return;
    this.silenceTimer = setInterval(() => this.checkSilence(), Math.min(1000, limitMs / 4));
    this.silenceTimer.unref();
  }

  close(): void {
    if (this.silenceTimer) clearInterval(this.silenceTimer);
    this.silenceTimer = null;
  }

  /** Who to tell when this worker goes silent (a WorkerProcess, which kills it and fails its call). */
  onSilent(conn: WorkerConnection, handler: (silence: Silence) => void): void {
    this.silenceHandlers.set(conn.peer.toString('hex'), handler);
  }

  /** One check (the timer's; tests call it with their own clock): echoes out, silent workers handed over. */
  checkSilence(): void {
    const limit = this.silenceLimitMs;
    if (limit <= 0) return;
    const now = this.now();
    // Checks this far apart mean the bridge itself was stalled (its event loop blocked): what the workers
    // sent meanwhile waits unread in its sockets, and a timer runs before them. No verdicts this round.
    const stalled = this.lastCheck !== null && now - this.lastCheck > Math.max(2000, limit / 2);
    this.lastCheck = now;
    for (const [key, conn] of [...this.byPeer]) {
      if (this.silenced.has(key)) continue;
      // One echo at a time: a peer whose connection is gone makes the ROUTER wait (sendTimeout) on a send.
      const echo = this.echoes.get(conn.workerId);
      if (echo && (echo.pending === null || now - echo.pending > limit / 2)) {
        echo.pending = now;
        void this.endpoint?.send(echo.peer, { v: 1, type: 'echo', worker_id: conn.workerId });
      }
      const silent = now - (this.lastHeard.get(key) ?? now);
      if (silent <= limit || stalled) continue;
      this.silenced.add(key);
      const silence: Silence = { host: conn.host, pid: conn.pid, seconds: silent / 1000, limitSeconds: limit / 1000 };
      const handler = this.silenceHandlers.get(key);
      this.log(`worker ${conn.workerId} on ${conn.host} (pid ${conn.pid}) has been silent for ${silence.seconds.toFixed(1)} s (limit ${silence.limitSeconds} s)`);
      handler?.(silence);
    }
  }

  /** Resolves when the worker started with this id says hello; `executorId` names its executor in the usage view. */
  expect(workerId: string, executorId: string | null = null): Promise<WorkerConnection> {
    return new Promise((resolve, reject) => this.expected.set(workerId, { resolve, reject, executorId }));
  }

  /** The connected workers with their latest heartbeat (CPU %, memory), for the usage view. */
  workerUsage(): WorkerUsageView[] {
    const views: WorkerUsageView[] = [];
    for (const [key, conn] of this.byPeer) {
      const usage = this.usage.get(key);
      views.push({
        worker_id: conn.workerId,
        executor_id: this.executorOf.get(key) ?? null,
        host: usage?.host ?? conn.host,
        pid: usage?.pid ?? conn.pid,
        ranks: conn.ranks,
        cpu_percent: usage?.cpuPercent ?? null,
        rss: usage?.rss ?? null,
        updated: usage?.at ?? null
      });
    }
    return views;
  }

  forget(workerId: string, reason: string): void {
    this.expected.get(workerId)?.reject(new Error(reason));
    this.expected.delete(workerId);
    if (!this.peerOfWorker.has(workerId)) {
      const echo = this.echoes.get(workerId);
      this.echoes.delete(workerId);
      if (echo) this.endpoint?.forget(echo.peer);
    }
  }

  /**
   * Send the task and its inputs; resolves with the worker's result, or null if the worker went away
   * before it started the task. A worker may be given several tasks; it runs them in order, and each
   * one's `hooks.started` is called when it becomes the first.
   */
  run(conn: WorkerConnection, task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome | null> {
    return new Promise(resolve => {
      const key = conn.peer.toString('hex');
      let queue = this.jobs.get(key);
      if (!queue) {
        this.jobs.set(key, (queue = []));
        if (!this.executorOf.has(key)) this.executorOf.set(key, task.executorId);
      }
      const job: Job = { taskId: task.id, fnName: task.fnName, hooks, where: conn.where, startedAt: null, resolve };
      queue.push(job);
      const header = {
        v: 1,
        type: 'task',
        task_id: task.id,
        fn_name: task.fnName,
        dependencies: task.dependencies,
        // A cached call's file shows a short repr of its result.
        ...(task.cache ? { summarize: true as const } : {})
      } as const;
      void this.send(conn, header, inputs);
      if (queue.length === 1) this.begin(job);
    });
  }

  /** Take a task the worker has not started off its queue (it resolves with `outcome`); false if it started. */
  drop(conn: WorkerConnection, taskId: string, outcome: TaskOutcome): boolean {
    const queue = this.jobs.get(conn.peer.toString('hex')) ?? [];
    const index = queue.findIndex(job => job.taskId === taskId);
    if (index <= 0) return false;
    const [job] = queue.splice(index, 1);
    this.dropped.add(taskId);
    // The worker says nothing for a task it dropped before starting it: forget the oldest such ids.
    if (this.dropped.size > 10_000) this.dropped.delete(this.dropped.values().next().value!);
    void this.send(conn, { v: 1, type: 'drop', task_id: taskId });
    job.resolve(outcome);
    return true;
  }

  private begin(job: Job): void {
    job.startedAt = Date.now();
    job.hooks.started(job.where);
  }

  /** Send the init_function blob; resolves with the worker's init_result. */
  init(conn: WorkerConnection, blob: Buffer): Promise<InitOutcome> {
    return new Promise(resolve => {
      this.initializing.set(conn.peer.toString('hex'), resolve);
      void this.send(conn, { v: 1, type: 'init' }, [blob]);
    });
  }

  /**
   * The worker process ended. The task it ran fails with `outcome(that task)`; the tasks before it whose
   * results never arrived get them from the journal (or fail: their result was lost with the process);
   * the ones it had not started resolve with null (to run elsewhere); a pending init fails. A journal
   * naming none of them means it had started none (it died between tasks, or in one the bridge had
   * dropped); without a journal the first task not answered is taken to be the one that ran.
   */
  lost(conn: WorkerConnection, outcome: (running: LostJob | null) => TaskOutcome, journal: Journal | null = null): void {
    const key = conn.peer.toString('hex');
    const queue = this.jobs.get(key) ?? [];
    this.jobs.delete(key);
    const ran = journal ? queue.findIndex(job => job.taskId === journal.running) : 0;
    queue.forEach((job, index) => {
      if (index < ran) job.resolve(journal!.results.get(job.taskId) ?? outcome({ fnName: job.fnName, startedAt: Date.now(), resultLost: true }));
      else if (index === ran) job.resolve(outcome({ fnName: job.fnName, startedAt: job.startedAt ?? Date.now() }));
      else job.resolve(null);
    });
    const init = this.initializing.get(key);
    this.initializing.delete(key);
    if (init) {
      const failed = outcome(null);
      if (!failed.ok) init({ ok: false, failure: failed.failure, exception: failed.exception });
    }
    this.byPeer.delete(key);
    this.lastHeard.delete(key);
    this.silenced.delete(key);
    this.silenceHandlers.delete(key);
    const echo = this.echoes.get(conn.workerId);
    this.echoes.delete(conn.workerId);
    if (echo) this.endpoint?.forget(echo.peer);
    this.usage.delete(key);
    this.executorOf.delete(key);
    this.lastDone.delete(key);
    if (this.peerOfWorker.get(conn.workerId) === key) this.peerOfWorker.delete(conn.workerId);
    for (const rankPeer of this.rankPeers.get(key)?.values() ?? []) this.endpoint?.forget(rankPeer);
    this.rankPeers.delete(key);
    this.endpoint?.forget(conn.peer);
  }

  stop(conn: WorkerConnection): Promise<void> {
    return this.send(conn, { v: 1, type: 'shutdown' });
  }

  handle = (peer: Buffer, frames: Buffer[]): void => {
    let messages: Unpacked[];
    try {
      messages = unbatch(frames);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.log(`worker ${peer.toString('hex')}: ${error.message}`);
      return;
    }
    for (const { header, blobs } of messages) this.handleMessage(peer, header, blobs);
  };

  private handleMessage(peer: Buffer, header: unknown, blobs: Buffer[]): void {
    let message: WorkerMessage;
    try {
      message = decodeWorkerHeader(undefined, header);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.log(`worker ${peer.toString('hex')}: ${error.message}`);
      return;
    }
    const key = peer.toString('hex');
    if (this.byPeer.has(key)) this.lastHeard.set(key, this.now());
    switch (message.type) {
      case 'echo': {
        // The echo socket's hello (it may come before the worker's own), or an echo coming back.
        const echo = this.echoes.get(message.worker_id);
        if (echo && echo.peer.equals(peer)) {
          echo.pending = null;
          const owner = this.peerOfWorker.get(message.worker_id);
          if (owner !== undefined) this.lastHeard.set(owner, this.now());
        } else if (!echo && (this.expected.has(message.worker_id) || this.peerOfWorker.has(message.worker_id))) {
          this.echoes.set(message.worker_id, { peer, pending: null });
        } else {
          this.log(`echo socket for worker ${message.worker_id}, which this bridge does not know or which has one: ignored`);
        }
        return;
      }
      case 'hello': {
        const conn: WorkerConnection = {
          workerId: message.worker_id,
          peer,
          ranks: message.ranks,
          host: message.host,
          pid: message.pid,
          where: `${message.host}:${message.pid}`
        };
        const waiting = this.expected.get(message.worker_id);
        if (!waiting) {
          this.log(`worker ${message.worker_id}: hello from a worker this bridge did not start; told to stop`);
          void this.send(conn, { v: 1, type: 'shutdown' });
          return;
        }
        this.expected.delete(message.worker_id);
        this.byPeer.set(key, conn);
        this.lastHeard.set(key, this.now());
        this.peerOfWorker.set(message.worker_id, key);
        if (waiting.executorId !== null) this.executorOf.set(key, waiting.executorId);
        waiting.resolve(conn);
        return;
      }
      case 'heartbeat': {
        // Only from a worker that said hello and has not been lost since.
        if (!this.byPeer.has(key)) return;
        const previous = this.usage.get(key);
        const at = this.now();
        const sample = { cpuSeconds: message.cpu_seconds, at };
        this.usage.set(key, {
          ...sample,
          rss: message.rss,
          host: message.host,
          pid: message.pid,
          // A new pid (a launcher's rank 0 restarted?) starts over.
          cpuPercent: previous && previous.pid === message.pid ? cpuPercent(previous, sample) : null
        });
        return;
      }
      case 'stream':
        if (this.byPeer.has(key) || message.worker_id === undefined) {
          this.jobs.get(key)?.find(job => job.taskId === message.task_id)?.hooks.stream(message.name, message.text);
        } else {
          this.rankStream(peer, key, message.worker_id, message);
        }
        return;
      case 'init_result': {
        const resolve = this.initializing.get(key);
        if (!resolve) {
          this.log(`worker ${key}: init_result, but no init_function was sent to it`);
          return;
        }
        this.initializing.delete(key);
        resolve(
          message.ok
            ? { ok: true }
            : {
                ok: false,
                failure: { error_type: message.error_type, error_message: message.error_message, traceback: message.traceback },
                exception: blobs[0] ?? null
              }
        );
        return;
      }
      case 'result': {
        const queue = this.jobs.get(key);
        const run = queue?.[0];
        if (!run || run.taskId !== message.task_id) {
          if (!this.dropped.delete(message.task_id)) this.log(`worker ${key}: result for ${message.task_id}, which it was not running`);
          return;
        }
        queue.shift();
        if ((this.byPeer.get(key)?.ranks ?? 1) > 1) this.lastDone.set(key, run);
        if (queue.length > 0) this.begin(queue[0]);
        run.resolve(outcomeOf(message, blobs));
        return;
      }
    }
  }

  /** Output of an MPI rank > 0, from its own socket (`peer`, which never says hello), for `workerId`'s task. */
  private rankStream(peer: Buffer, key: string, workerId: string, { task_id, name, text }: StreamMessage): void {
    const owner = this.peerOfWorker.get(workerId);
    if (owner === undefined) {
      if (!this.unknownWorkers.has(workerId)) {
        if (this.unknownWorkers.size >= 1000) this.unknownWorkers.clear();
        this.unknownWorkers.add(workerId);
        this.log(`output for worker ${workerId}, which is not connected: dropped`);
      }
      return;
    }
    let peers = this.rankPeers.get(owner);
    if (!peers) this.rankPeers.set(owner, (peers = new Map()));
    if (!peers.has(key)) peers.set(key, peer);
    const last = this.lastDone.get(owner);
    const job = this.jobs.get(owner)?.find(j => j.taskId === task_id) ?? (last?.taskId === task_id ? last : undefined);
    job?.hooks.stream(name, text);
  }

  private send(conn: WorkerConnection, header: BridgeToWorker, blobs: Buffer[] = []): Promise<void> {
    if (!this.endpoint) throw new Error('WorkerHub used before attach()');
    return this.endpoint.send(conn.peer, header, blobs);
  }
}
