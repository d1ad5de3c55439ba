// Composes the bridge: keys, the two ROUTER endpoints, the scheduler, the HTTP API, the event hub.
import { randomBytes, randomUUID } from 'node:crypto';
import { realpathSync, rmSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import * as zmq from 'zeromq';
import { z } from 'zod';
import { BlockAllocationBackend, processLauncher } from './backends/block.js';
import { ClusterBackend, ClusterJobs } from './backends/cluster.js';
import { FluxLauncher, fluxUri } from './backends/flux.js';
import { FluxBatchSystem, SlurmBatchSystem, type BatchSystem } from './cluster/batch-system.js';
import { JobWatcher } from './cluster/job-watcher.js';
import type { WorkerLauncher } from './backends/launcher.js';
import { LocalLauncher } from './backends/local.js';
import { OneProcessBackend } from './backends/one-process.js';
import { SlurmLauncher, slurmConf } from './backends/slurm.js';
import type { Backend, TaskOutcome } from './backends/backend.js';
import {
  writePrivateJson,
  removeQuietly,
  type ConnectionInfo,
  type WorkerCredentials
} from './connection-file.js';
import { EventHub } from './events/hub.js';
import { ApiServer } from './http/server.js';
import {
  decodeClientHeader,
  ProtocolError,
  resourceDictProblem,
  BACKENDS,
  CACHE_BLOBS,
  ExecutorOptions,
  SUBMIT_BLOBS,
  type BridgeToClient,
  type ClientMessage,
  type ResourceDict
} from './protocol/messages.js';
import { blockGpuProblem, isEmptyResourceDict, mergeResourceDicts } from './resources/capabilities.js';
import { HostProbe } from './resources/host.js';
import { PlacementProbe } from './resources/placement.js';
import { executorLoads, UsageMonitor, usageSample } from './resources/usage.js';
import { RequestError, Scheduler } from './scheduler/scheduler.js';
import { mergeResources, type Task } from './scheduler/task.js';
import { CacheBrowser } from './cache/browser.js';
import { CacheStore, type CacheRef } from './cache/store.js';
import { RouterEndpoint } from './transport/endpoint.js';
import { createSocketDirectory } from './transport/socket-directory.js';
import { unbatch, type Unpacked } from './protocol/batch.js';
import { ZapAuthenticator } from './transport/zap.js';
import { WorkerHub } from './workers/hub.js';
import { removeJournals } from './workers/journal.js';

export const BRIDGE_VERSION = '0.1.0';
/** The client id of executors started from the panel. */
export const PANEL_CLIENT = 'panel';
const EXECUTOR_CLASSES = {
  local: 'SingleNodeExecutor',
  slurm: 'SlurmJobExecutor',
  flux: 'FluxJobExecutor',
  'slurm-cluster': 'SlurmClusterExecutor',
  'flux-cluster': 'FluxClusterExecutor'
} as const;

/** What the panel's "New executor" dialog sends. */
const PanelExecutor = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_. -]{1,64}$/, 'letters, digits, space and _ . - only, at most 64'),
    backend: z.enum(BACKENDS),
    max_cores: z.number().int().min(1).max(1_000_000).nullable().default(null),
    max_workers: z.number().int().min(1).max(1_000_000).nullable().default(null),
    block_allocation: z.boolean().default(false),
    cache_directory: z.string().min(1).max(4096).refine(d => d.startsWith('/'), 'must be an absolute path').nullable().default(null)
  })
  .strict();
const RUNNING_NOTICE_MS = 1;

/** How long a worker may be silent before its call fails (--worker-silence-limit). */
export const DEFAULT_WORKER_SILENCE_LIMIT_MS = 10_000;

export interface BridgeOptions {
  connectionFile: string;
  /** Interface the ZeroMQ endpoints bind: 127.0.0.1 on a workstation, 0.0.0.0 for other nodes. */
  zmqHost: string;
  /** Interface the workers' endpoint binds; 0.0.0.0 when workers start on other nodes (srun, flux). */
  workerHost?: string;
  httpHost: string;
  httpPort: number;
  maxMessageBytes: number;
  /** A client silent for this long (it heartbeats every 2 s when idle) is treated as gone. */
  clientTimeoutMs: number;
  /**
   * A worker silent for this long (no heartbeat, which it sends every 2 s, and no echo) fails its call and
   * is killed: its node is down or cut off, or the process stopped. 0: never; default 10 s.
   */
  workerSilenceLimitMs?: number;
  /** The Python of executors started from the panel (the Jupyter server's), and folders for their PYTHONPATH. */
  python?: string;
  pythonpath?: string[];
  /** Folders the cache browser may open cache directories in (besides those kernels used). */
  cacheRoots: string[];
  log: (line: string) => void;
}

interface Client {
  /** The socket the client receives on (it said hello there). */
  peer: Buffer;
  /** Its send-only socket, once attached. */
  sender: Buffer | null;
  clientId: string;
  python: string;
  pythonpath: string[];
  lastSeen: number;
}



export class Bridge {
  readonly instanceId = randomUUID();
  readonly started = Date.now();
  readonly scheduler = new Scheduler();
  private readonly zap = new ZapAuthenticator();
  private readonly workers: WorkerHub;
  private readonly events = new EventHub(
    () => this.scheduler.views(),
    100,
    () => this.scheduler.executorViews()
  );
  /** By the peer (hex) each client receives on, and by its sender's peer. */
  private readonly clients = new Map<string, Client>();
  private readonly senders = new Map<string, Client>();
  private readonly host = new HostProbe();
  /** Where the bridge runs (this machine, a SLURM job, a flux instance), for the panel. */
  private readonly placement = new PlacementProbe({ localGpus: () => this.host.gpus.devices.length });
  private readonly token = randomBytes(24).toString('hex');
  /** Cores and GPUs busy, calls queued and running, workers' CPU and memory: sampled while anyone looks. */
  private readonly usage = new UsageMonitor({
    sample: () =>
      usageSample(
        executorLoads(this.scheduler),
        {
          cpus: this.placement.latest()?.cpus ?? availableParallelism(),
          gpusTotal: this.scheduler.gpus.total,
          gpusFree: this.scheduler.gpus.available
        }
      ),
    workers: () => this.workers.workerUsage(),
    listeners: () => this.events.subscribers,
    publish: event => this.events.broadcast(event)
  });
  private readonly api: ApiServer;
  private readonly cache: CacheStore;
  private readonly browser: CacheBrowser;
  /** Cache directories kernels used (realpaths where they exist): the browser may open them. */
  private readonly cacheDirectories = new Set<string>();
  /** Unfinished calls by cache directory and key: their files are never deleted meanwhile. */
  private readonly cachedCalls = new Map<string, number>();
  private readonly cachedCallOf = new Map<string, string>();
  private clientEndpoint!: RouterEndpoint;
  private workerEndpoint!: RouterEndpoint;
  private readonly workerFile: string;
  /** Holds the IPC sockets; mode 0700, so only this user can connect to them. */
  private socketDirectory = '';
  private liveness: NodeJS.Timeout | undefined;
  /** Calls that started and were not announced yet, with when they started (performance.now()). */
  private readonly startedCalls = new Map<Task, number>();
  private runningNotices: NodeJS.Timeout | null = null;
  /** Per batch system (slurm, flux): how its jobs are submitted, followed, and found by their dependents. */
  /** The panel, as the client of the executors it starts: workers run the bridge's Python. */
  private readonly panelClient: Client;
  private readonly panelCacheDirectories = new Map<string, string | null>();
  private readonly batchQueues = new Map<string, { system: BatchSystem; watcher: JobWatcher; jobs: ClusterJobs }>();

  constructor(private readonly options: BridgeOptions) {
    this.panelClient = {
      peer: Buffer.alloc(0),
      sender: null,
      clientId: PANEL_CLIENT,
      python: options.python ?? '/usr/bin/python3',
      pythonpath: options.pythonpath ?? [],
      lastSeen: Date.now()
    };
    this.workers = new WorkerHub(options.log);
    this.cache = new CacheStore(options.log);
    this.browser = new CacheBrowser({
      files: this.cache.files,
      roots: () => [...options.cacheRoots, ...this.cacheDirectories],
      inUse: (directory, key) => (this.cachedCalls.get(`${directory}\0${key}`) ?? 0) > 0,
      log: options.log
    });
    this.cache.onWritten = (path, summary) => void this.browser.written(path, summary);
    this.scheduler.cache = this.cache;
    this.scheduler.on('log', options.log);
    this.workerFile = options.connectionFile.replace(/\.json$/, '') + '-worker.json';
    this.api = new ApiServer(
      this.token,
      {
        status: () => {
          const memory = process.memoryUsage();
          return {
            version: BRIDGE_VERSION,
            pid: process.pid,
            started: this.started,
            instance_id: this.instanceId,
            memory: { rss: memory.rss, heap_used: memory.heapUsed, heap_total: memory.heapTotal, external: memory.external },
            held_result_bytes: this.scheduler.heldResultBytes,
            placement: this.placement.latest()
          };
        },
        tasks: () => ({ tasks: this.scheduler.views() }),
        executors: () => ({ executors: this.scheduler.executorViews() }),
        createExecutor: body => this.createPanelExecutor(body),
        stopExecutor: id => this.stopPanelExecutor(id),
        task: id => {
          const task = this.scheduler.task(id);
          return task ? { ...this.scheduler.view(task), output: task.output, failure: task.failure } : null;
        },
        cancel: id => this.scheduler.cancel(id),
        cache: this.browser,
        cacheDirectories: () => [...this.cacheDirectories].sort(),
        usage: since => this.usage.history(since)
      },
      this.events
    );
    this.events.onSubscribe = () => this.usage.wake();
    this.scheduler.on('task', task => {
      // Views are built only for browsers that listen; a snapshot catches up the ones that join later.
      if (this.events.subscribers > 0) {
        this.events.taskChanged(this.scheduler.view(task));
        this.events.executorsChanged();
      }
      if (task.state === 'running') this.noteRunning(task);
    });
    this.scheduler.on('stream', (task, name, text) =>
      this.toClient(task.clientId, { v: 1, type: 'stream', task_id: task.id, name, text })
    );
    this.scheduler.on('finished', (task, outcome) => {
      for (const queue of this.batchQueues.values()) queue.jobs.finished(task.id);
      const id = this.cachedCallOf.get(task.id);
      if (id !== undefined) {
        this.cachedCallOf.delete(task.id);
        const left = (this.cachedCalls.get(id) ?? 1) - 1;
        if (left > 0) this.cachedCalls.set(id, left);
        else this.cachedCalls.delete(id);
      }
      this.reportResult(task, outcome);
    });
  }

  async start(): Promise<ConnectionInfo> {
    this.socketDirectory = createSocketDirectory();
    const clientKeys = zmq.curveKeyPair();
    const workerKeys = zmq.curveKeyPair();
    const serverKeys = zmq.curveKeyPair();
    const gpus = await this.host.detectGpus();
    this.scheduler.gpus.reset(gpus.devices);
    const placement = await this.placement.current();
    this.options.log(`runs ${placement.kind === 'slurm' ? `inside SLURM job ${placement.job_id}` : placement.kind === 'flux' ? `inside the flux instance ${placement.uri}` : 'on this machine'}`);
    this.options.log(`GPUs for tasks: ${gpus.devices.length ? gpus.devices.join(',') : 'none'} (${gpus.source})`);
    await this.zap.start();
    this.zap.allow(clientKeys.publicKey);
    this.zap.allow(workerKeys.publicKey);
    const endpointOptions = {
      host: this.options.zmqHost,
      secretKey: serverKeys.secretKey,
      publicKey: serverKeys.publicKey,
      ipcDirectory: this.socketDirectory,
      maxMessageBytes: this.options.maxMessageBytes
    };
    // Results of short calls reach a kernel in batches while they stream in (at most 1 ms later).
    const coalesce = { within: 0.2, delay: 1 };
    this.clientEndpoint = new RouterEndpoint('clients', { ...endpointOptions, coalesce }, this.onClient, this.options.log);
    this.workerEndpoint = new RouterEndpoint(
      'workers',
      { ...endpointOptions, host: this.options.workerHost ?? this.options.zmqHost },
      this.workers.handle,
      this.options.log
    );
    this.workers.attach(this.workerEndpoint);
    const clientAddress = await this.clientEndpoint.bind();
    const workerAddress = await this.workerEndpoint.bind();
    const httpUrl = await this.api.listen(this.options.httpHost, this.options.httpPort);

    const worker: WorkerCredentials = {
      version: 1,
      instance_id: this.instanceId,
      hostname: hostname(),
      // Bound to every interface: other nodes reach it by this host's name.
      worker_endpoint: workerAddress.tcp.replace('tcp://0.0.0.0:', `tcp://${hostname()}:`),
      worker_ipc_endpoint: workerAddress.ipc,
      server_public_key: serverKeys.publicKey,
      public_key: workerKeys.publicKey,
      secret_key: workerKeys.secretKey
    };
    await writePrivateJson(this.workerFile, worker);
    const info: ConnectionInfo = {
      version: 1,
      instance_id: this.instanceId,
      pid: process.pid,
      started: this.started,
      hostname: hostname(),
      client_endpoint: clientAddress.tcp,
      client_ipc_endpoint: clientAddress.ipc,
      server_public_key: serverKeys.publicKey,
      client_public_key: clientKeys.publicKey,
      client_secret_key: clientKeys.secretKey,
      http_url: httpUrl,
      token: this.token
    };
    this.workers.watchSilence(this.options.workerSilenceLimitMs ?? DEFAULT_WORKER_SILENCE_LIMIT_MS);
    this.liveness = setInterval(this.checkClients, Math.min(2000, this.options.clientTimeoutMs / 2));
    this.liveness.unref();
    // Written last: its presence means the bridge is ready.
    await writePrivateJson(this.options.connectionFile, info);
    return info;
  }

  /** Orphan what a client had: its queued tasks are cancelled, its workers stopped, records kept. */
  private dropClient(client: Client, why: string): void {
    this.clients.delete(client.peer.toString('hex'));
    this.clientEndpoint.forget(client.peer);
    if (client.sender) {
      this.senders.delete(client.sender.toString('hex'));
      this.clientEndpoint.forget(client.sender);
    }
    if ([...this.clients.values()].some(c => c.clientId === client.clientId)) return;
    this.options.log(`client ${client.clientId} ${why}; its executors are orphaned`);
    this.scheduler.orphanClient(client.clientId);
    this.events.executorsChanged();
  }

  private checkClients = (): void => {
    const now = Date.now();
    for (const client of [...this.clients.values()]) {
      const limit = this.options.clientTimeoutMs;
      if (now - client.lastSeen > limit) this.dropClient(client, `was silent for ${limit / 1000} s`);
    }
  };

  async stop(): Promise<void> {
    clearInterval(this.liveness);
    this.workers.close();
    if (this.runningNotices) clearTimeout(this.runningNotices);
    await removeQuietly(this.options.connectionFile);
    await removeQuietly(this.workerFile);
    await this.scheduler.close();
    await this.cache.close();
    this.browser.flush();
    removeJournals(this.workerFile);
    this.usage.close();
    this.events.close();
    await this.api.close();
    this.clientEndpoint?.close();
    this.workerEndpoint?.close();
    this.zap.close();
    if (this.socketDirectory) rmSync(this.socketDirectory, { recursive: true, force: true });
  }

  private onClient = async (peer: Buffer, frames: Buffer[]): Promise<void> => {
    let messages: Unpacked[];
    try {
      messages = unbatch(frames);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.options.log(`client ${peer.toString('hex')}: ${error.message}`);
      await this.refuse(this.replyPeer(peer), error.message);
      return;
    }
    for (const { header, blobs } of messages) await this.onClientMessage(peer, header, blobs);
  };

  private async onClientMessage(peer: Buffer, header: unknown, blobs: Buffer[]): Promise<void> {
    let message: ClientMessage;
    try {
      message = decodeClientHeader(undefined, header);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.options.log(`client ${peer.toString('hex')}: ${error.message}`);
      await this.refuse(this.replyPeer(peer), error.message, error.taskId, error.requestId);
      return;
    }
    if (message.type === 'hello') {
      this.clients.set(peer.toString('hex'), {
        peer,
        sender: null,
        clientId: message.client_id,
        python: message.python,
        pythonpath: message.pythonpath,
        lastSeen: Date.now()
      });
      await this.send(peer, { v: 1, type: 'welcome', instance_id: this.instanceId, bridge_version: BRIDGE_VERSION });
      return;
    }
    if (message.type === 'attach') {
      this.attach(peer, message.client_id);
      return;
    }
    const taskId = 'task_id' in message ? message.task_id : undefined;
    const requestId = 'request_id' in message ? message.request_id : undefined;
    const key = peer.toString('hex');
    const client = this.senders.get(key) ?? this.clients.get(key);
    if (!client) {
      await this.refuse(peer, `say hello before ${message.type}`, taskId, requestId);
      return;
    }
    client.lastSeen = Date.now();
    try {
      await this.handle(client, message, blobs);
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      await this.refuse(client.peer, error.message, taskId, requestId);
    }
  }

  /** Where answers to what `peer` sent go: a client's receiving socket, not its send-only one. */
  private replyPeer(peer: Buffer): Buffer {
    return this.senders.get(peer.toString('hex'))?.peer ?? peer;
  }

  /** Link a send-only socket to the client that said hello as `clientId`; its refusals go to that client. */
  private attach(peer: Buffer, clientId: string): void {
    const client = [...this.clients.values()].find(c => c.clientId === clientId && c.sender === null);
    if (!client) {
      this.options.log(`client ${peer.toString('hex')}: attach to ${clientId}, which did not say hello`);
      void this.refuse(peer, `attach to ${clientId}, which did not say hello`);
      return;
    }
    client.sender = peer;
    this.senders.set(peer.toString('hex'), client);
  }

  /** Answer a refused message where its sender waits: the request, the task's future, or a log. */
  private refuse(peer: Buffer, message: string, taskId?: string, requestId?: string): Promise<void> {
    if (requestId) return this.send(peer, { v: 1, type: 'reply', request_id: requestId, ok: false, error: message });
    if (taskId) {
      return this.send(peer, {
        v: 1,
        type: 'result',
        task_id: taskId,
        ok: false,
        runtime: 0,
        error_type: 'ValueError',
        error_message: message,
        traceback: ''
      });
    }
    return this.send(peer, { v: 1, type: 'error', message });
  }

  private async handle(client: Client, message: Exclude<ClientMessage, { type: 'hello' }>, blobs: Buffer[]): Promise<void> {
    switch (message.type) {
      case 'create_executor': {
        await this.createExecutor(client, message, blobs, message.name);
        await this.send(client.peer, { v: 1, type: 'reply', request_id: message.request_id, ok: true });
        return;
      }
      case 'attach_executor': {
        const executor = this.scheduler.executorNamed(message.name, PANEL_CLIENT);
        if (!executor) {
          const started = this.scheduler.executorViews().filter(e => e.client_id === PANEL_CLIENT && !e.shutdown).map(e => e.name);
          throw new RequestError(
            `no executor named ${JSON.stringify(message.name)} was started from the panel of this bridge` +
              (started.length ? `; started from the panel: ${started.map(n => JSON.stringify(n)).join(', ')}` : '; start one from the Executors panel')
          );
        }
        await this.send(client.peer, {
          v: 1,
          type: 'reply',
          request_id: message.request_id,
          ok: true,
          executor: {
            executor_id: executor.id,
            name: executor.name,
            backend: executor.backendKind,
            options: executor.options,
            cache_directory: this.panelCacheDirectories.get(executor.id) ?? null
          }
        });
        return;
      }
      case 'submit': {
        const expected = SUBMIT_BLOBS + (message.cache ? CACHE_BLOBS : 0);
        if (blobs.length !== expected) {
          throw new RequestError(
            `submit carries ${blobs.length} blobs; it needs exactly ${expected} (the function, then args and kwargs as one pickle` +
              `${message.cache ? ', then input_args, input_kwargs and resource_dict for the cache file' : ''})`
          );
        }
        const problem = await this.resourceProblem(message.executor_id, message.resource_dict);
        if (problem) throw new RequestError(problem);
        const task = this.scheduler.submit({
          taskId: message.task_id,
          executorId: message.executor_id,
          clientId: client.clientId,
          fnName: message.fn_name,
          args: message.args,
          resourceDict: message.resource_dict,
          blobs: blobs.slice(0, SUBMIT_BLOBS),
          dependencies: message.dependencies,
          ...(message.cache
            ? {
                cache: {
                  ref: message.cache,
                  inputs: { function: blobs[0], inputArgs: blobs[2], inputKwargs: blobs[3], resourceDict: blobs[4] }
                }
              }
            : {})
        });
        if (message.cache && task.state !== 'done' && task.state !== 'error' && task.state !== 'cancelled') {
          const id = this.cachedCallId(message.cache);
          this.cachedCallOf.set(task.id, id);
          this.cachedCalls.set(id, (this.cachedCalls.get(id) ?? 0) + 1);
        }
        return;
      }
      case 'cancel':
        this.scheduler.cancel(message.task_id);
        return;
      case 'heartbeat':
        return;
      case 'bye':
        this.dropClient(client, 'said bye');
        return;
      case 'validate_resources': {
        const problem = await this.resourceProblem(message.executor_id, message.resource_dict);
        await this.send(
          client.peer,
          problem === null
            ? { v: 1, type: 'reply', request_id: message.request_id, ok: true }
            : { v: 1, type: 'reply', request_id: message.request_id, ok: false, error: problem }
        );
        return;
      }
      case 'resize_executor': {
        await this.scheduler.resizeExecutor(message.executor_id, message.max_workers);
        await this.send(client.peer, { v: 1, type: 'reply', request_id: message.request_id, ok: true });
        return;
      }
      case 'shutdown_executor': {
        // Waiting must not hold up the receive loop: other clients keep being served meanwhile.
        const done = this.scheduler.shutdownExecutor(message.executor_id, message.wait, message.cancel_futures);
        this.events.executorsChanged();
        void done.then(
          () => this.send(client.peer, { v: 1, type: 'reply', request_id: message.request_id, ok: true }),
          (error: Error) => this.send(client.peer, { v: 1, type: 'reply', request_id: message.request_id, ok: false, error: error.message })
        );
        return;
      }
    }
  }

  /** Create an executor for a kernel's request or the panel's; `name` is what the panel lists. */
  private async createExecutor(
    client: Client,
    message: Extract<ClientMessage, { type: 'create_executor' }>,
    blobs: Buffer[],
    name: string
  ): Promise<void> {
    const backend = this.createBackend(client, message, blobs);
    const problems = (await backend.resourceProblems?.(mergeResourceDicts(message.options.resource_dict, {}))) ?? [];
    if (problems.length > 0) throw new RequestError(problems.join('; '));
    this.scheduler.createExecutor({
      id: message.executor_id,
      name,
      clientId: client.clientId,
      options: message.options,
      backend,
      backendKind: message.backend
    });
    this.events.executorsChanged();
    if (message.options.block_allocation) await this.scheduler.resizeExecutor(message.executor_id, message.options.max_workers!);
  }

  /** An executor started from the panel: it belongs to the bridge, kernels use it by name. */
  private async createPanelExecutor(body: Record<string, unknown>): Promise<unknown> {
    const parsed = PanelExecutor.safeParse(body);
    if (!parsed.success) {
      throw new RequestError(parsed.error.issues.map(i => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    }
    const spec = parsed.data;
    if (this.scheduler.executorNamed(spec.name, PANEL_CLIENT)) throw new RequestError(`the name ${JSON.stringify(spec.name)} is in use by a running executor`);
    const id = `p-${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const options = ExecutorOptions.parse({
      max_cores: spec.max_cores,
      max_workers: spec.max_workers,
      block_allocation: spec.block_allocation
    });
    const message = {
      v: 1 as const,
      type: 'create_executor' as const,
      request_id: 'panel',
      executor_id: id,
      name: EXECUTOR_CLASSES[spec.backend],
      backend: spec.backend,
      options
    };
    try {
      await this.createExecutor(this.panelClient, message, [], spec.name);
    } catch (error) {
      if (error instanceof RequestError) throw error;
      throw new RequestError((error as Error).message);
    }
    this.panelCacheDirectories.set(id, spec.cache_directory);
    return this.scheduler.executorViews().find(e => e.id === id);
  }

  /** Stop an executor started from the panel: its unstarted calls are cancelled. */
  private async stopPanelExecutor(id: string): Promise<boolean> {
    const executor = this.scheduler.executor(id);
    if (!executor || executor.clientId !== PANEL_CLIENT || executor.shutdown) return false;
    void this.scheduler.shutdownExecutor(id, false, true);
    this.events.executorsChanged();
    return true;
  }

  /**
   * One worker per call, or with block_allocation a pool of warm workers; started on this machine, as srun
   * steps or as flux jobs, as the executor's backend says.
   */
  private createBackend(client: Client, message: Extract<ClientMessage, { type: 'create_executor' }>, blobs: Buffer[]): Backend {
    const { options } = message;
    if (options.init_function !== (blobs.length === 1) || blobs.length > 1) {
      throw new RequestError(
        `create_executor with init_function=${options.init_function} must carry ${options.init_function ? 'the init_function blob' : 'no blob'}, got ${blobs.length}`
      );
    }
    if (!options.block_allocation && (options.init_function || options.restart_limit > 0)) {
      throw new RequestError('init_function and restart_limit need block_allocation=True: they are about long-lived workers');
    }
    if (message.backend === 'slurm-cluster' || message.backend === 'flux-cluster') return this.clusterBackend(client, message);
    const launcher = this.launcher(client, message);
    const setup = { launcher, pythonpath: client.pythonpath, bridgeFile: this.workerFile };
    const resources = mergeResources(options.resource_dict, {});
    // Steps of an allocation share its CPUs: without a limit of its own the executor keeps to their number.
    const allocationCpus = launcher instanceof SlurmLauncher ? (launcher.allocation?.cpus ?? null) : null;
    if (!options.block_allocation) {
      if (allocationCpus !== null && options.max_cores === null && options.max_workers === null) options.max_cores = allocationCpus;
      return new OneProcessBackend(this.workers, setup);
    }
    // The client sends max_workers (executorlib's default: max_cores // cores, else the CPU count).
    options.max_workers ??= Math.max(
      1,
      options.max_cores !== null ? Math.floor(options.max_cores / resources.cores) : (allocationCpus ?? availableParallelism())
    );
    const needed = options.max_workers * resources.cores * resources.threads_per_core;
    if (allocationCpus !== null && needed > allocationCpus) {
      throw new RequestError(
        `max_workers=${options.max_workers} workers of cores × threads_per_core = ${resources.cores * resources.threads_per_core} CPUs need ` +
          `${needed} CPUs, but the SLURM allocation has ${allocationCpus}`
      );
    }
    if (!launcher.placesGpus) {
      const gpuProblem = blockGpuProblem(options.resource_dict, options.max_workers, this.scheduler.gpus.total);
      if (gpuProblem) throw new RequestError(gpuProblem);
    }
    return new BlockAllocationBackend({
      launch: processLauncher({ ...setup, hub: this.workers, resources, gpus: this.scheduler.gpus }),
      initFunction: options.init_function ? blobs[0] : null,
      restartLimit: options.restart_limit,
      executorName: message.name,
      checkResources: dict => launcher.resourceProblems(dict),
      log: this.options.log
    });
  }

  /** One batch job per call; the batch system's watcher and job registry are shared by its executors. */
  private clusterBackend(client: Client, message: Extract<ClientMessage, { type: 'create_executor' }>): Backend {
    const { options } = message;
    if (options.block_allocation) {
      throw new RequestError(`${message.name} runs one job per call; block_allocation=True (workers as queue jobs) is not supported`);
    }
    // Jobs go to the kernel's cluster (its SLURM_CONF) or flux instance (its FLUX_URI), else the bridge's:
    // one queue per cluster or instance.
    const slurm = message.backend === 'slurm-cluster';
    const uri = slurm ? null : fluxUri(options.scheduler_env, process.env);
    const conf = slurm ? slurmConf(options.scheduler_env, process.env) : null;
    const name = slurm ? `slurm ${conf ?? ''}` : `flux ${uri ?? ''}`;
    let queue = this.batchQueues.get(name);
    if (!queue) {
      const system = slurm ? new SlurmBatchSystem(conf) : new FluxBatchSystem(uri);
      queue = { system, watcher: new JobWatcher(system, this.options.log), jobs: new ClusterJobs() };
      this.batchQueues.set(name, queue);
    }
    return new ClusterBackend({
      batch: queue.system,
      watcher: queue.watcher,
      jobs: queue.jobs,
      files: this.cache.files,
      python: client.python,
      pythonpath: client.pythonpath,
      pmiMode: options.pmi_mode,
      openmpiOversubscribe: options.openmpi_oversubscribe,
      pysqaConfigDirectory: options.pysqa_config_directory,
      executorName: message.name,
      dependency: id => this.scheduler.dependency(id),
      log: this.options.log
    });
  }

  private launcher(client: Client, message: Extract<ClientMessage, { type: 'create_executor' }>): WorkerLauncher {
    const { options } = message;
    const setup = {
      python: client.python,
      pythonpath: client.pythonpath,
      bridgeFile: this.workerFile,
      openmpiOversubscribe: options.openmpi_oversubscribe,
      executorName: message.name,
      host: this.host
    };
    switch (message.backend) {
      case 'local':
        return new LocalLauncher(setup);
      case 'slurm':
        return new SlurmLauncher({ ...setup, pmiMode: options.pmi_mode, schedulerEnv: options.scheduler_env });
      case 'flux':
        return new FluxLauncher({ ...setup, pmiMode: options.pmi_mode, nesting: options.flux_executor_nesting, schedulerEnv: options.scheduler_env });
      default:
        throw new RequestError(`the ${message.backend} backend is not available in this bridge`);
    }
  }

  /** A cache file's identity as the browser sees it: the directory's realpath (once it exists) and key. */
  private cachedCallId(ref: CacheRef): string {
    let directory = ref.directory;
    try {
      directory = realpathSync(directory);
    } catch {
      // Not created yet (the first write makes it).
    }
    this.cacheDirectories.add(directory);
    return `${directory}\0${ref.key}`;
  }

  /** Why a call's resource_dict cannot run on its executor (schema, then what the backend honours), or null. */
  private async resourceProblem(executorId: string, dict: unknown): Promise<string | null> {
    const invalid = resourceDictProblem(dict);
    if (invalid) return invalid;
    const executor = this.scheduler.executor(executorId);
    if (!executor) return `unknown executor ${executorId}`;
    const perTask = dict as ResourceDict;
    // The executor's own defaults were checked when it was created.
    if (isEmptyResourceDict(perTask) || !executor.backend.resourceProblems) return null;
    const problems = await executor.backend.resourceProblems(mergeResourceDicts(executor.options.resource_dict, perTask), perTask);
    return problems.length > 0 ? problems.join('; ') : null;
  }

  private reportResult(task: Task, outcome: TaskOutcome | null): void {
    this.forgetStarted(task);
    if (!outcome) {
      this.toClient(task.clientId, { v: 1, type: 'task_state', task_id: task.id, state: 'cancelled' });
      return;
    }
    if (outcome.ok) {
      this.toClient(task.clientId, { v: 1, type: 'result', task_id: task.id, ok: true, runtime: outcome.runtime }, outcome.result);
    } else {
      this.toClient(
        task.clientId,
        { v: 1, type: 'result', task_id: task.id, ok: false, runtime: outcome.runtime, ...outcome.failure },
        ...(outcome.exception ? [outcome.exception] : [])
      );
    }
  }

  /**
   * Tell the kernel a call runs (its future's running()) once it has run for RUNNING_NOTICE_MS: a short
   * call's result is its only message, which halves the kernel's work and keeps a round trip quiet.
   */
  private noteRunning(task: Task): void {
    this.startedCalls.set(task, performance.now());
    this.armRunningNotices();
  }

  private armRunningNotices(): void {
    if (this.runningNotices || this.startedCalls.size === 0) return;
    const first = this.startedCalls.values().next().value as number;
    this.runningNotices = setTimeout(this.sendRunningNotices, Math.max(0, first + RUNNING_NOTICE_MS - performance.now()));
  }

  private sendRunningNotices = (): void => {
    this.runningNotices = null;
    const due = performance.now() - RUNNING_NOTICE_MS;
    // In the order they started: stop at the first that has not run long enough.
    for (const [call, at] of this.startedCalls) {
      if (at > due) break;
      this.startedCalls.delete(call);
      if (call.state === 'running') this.toClient(call.clientId, { v: 1, type: 'task_state', task_id: call.id, state: 'running' });
    }
    this.armRunningNotices();
  };

  private forgetStarted(task: Task): void {
    if (!this.startedCalls.delete(task) || this.startedCalls.size > 0 || !this.runningNotices) return;
    clearTimeout(this.runningNotices);
    this.runningNotices = null;
  }

  private toClient(clientId: string, message: BridgeToClient, ...blobs: Buffer[]): void {
    for (const client of this.clients.values()) {
      if (client.clientId === clientId) void this.send(client.peer, message, ...blobs);
    }
  }

  private send(peer: Buffer, message: BridgeToClient, ...blobs: Buffer[]): Promise<void> {
    return this.clientEndpoint.send(peer, message, blobs);
  }
}
