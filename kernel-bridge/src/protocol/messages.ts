// Every message that crosses a ZeroMQ socket, defined once. Frame 0 is the JSON header described here,
// frames 1..n are opaque cloudpickle blobs the bridge never unpickles.
import { z } from 'zod';
import { resourceDictProblems, type ResourceDict as ResourceDictShape } from '../resources/validate.js';

export { RESOURCE_KEYS, resourceDictProblem } from '../resources/validate.js';

export const PROTOCOL_VERSION = 1;

/** Where an executor's calls run (see ARCHITECTURE.md, Executors and backends). */
export const BACKENDS = ['local', 'slurm', 'flux', 'slurm-cluster', 'flux-cluster'] as const;
export type BackendKind = (typeof BACKENDS)[number];

const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');
const count = z.number().int().min(1).max(1_000_000);

/** A resource_dict, judged by the one validator of schema/resource-dict.schema.json. */
export const ResourceDict = z
  .unknown()
  .superRefine((value, ctx) => {
    for (const message of resourceDictProblems(value)) ctx.addIssue({ code: z.ZodIssueCode.custom, message });
  })
  .transform(value => value as ResourceDict);
export type ResourceDict = ResourceDictShape;

export const ExecutorOptions = z
  .object({
    max_workers: count.nullable().default(null),
    max_cores: count.nullable().default(null),
    resource_dict: ResourceDict.default({}),
    block_allocation: z.boolean().default(false),
    /** An init_function blob follows the header (block allocation only). */
    init_function: z.boolean().default(false),
    restart_limit: z.number().int().min(0).max(1_000_000).default(0),
    openmpi_oversubscribe: z.boolean().default(false),
    /** srun --mpi / flux -o pmi=; null: the backend's default (pmix for SLURM, flux's own). */
    pmi_mode: z.string().regex(/^[a-z0-9_]{1,32}$/, 'a PMI name such as pmix, pmi2 or pmi1').nullable().default(null),
    /**
     * The kernel's batch-system variables (SLURM_*, FLUX_URI): a kernel inside an allocation or a flux
     * instance uses it even when the bridge was started outside.
     */
    scheduler_env: z
      .record(z.string().regex(/^(SLURM_[A-Z0-9_]{1,64}|FLUX_URI)$/, 'SLURM_* or FLUX_URI'), z.string().max(65_536))
      .refine(env => Object.keys(env).length <= 256, 'at most 256 variables')
      .default({}),
    /** FluxJobExecutor: every worker is a nested flux instance (`flux run ... flux start ...`). */
    flux_executor_nesting: z.boolean().default(false),
    /** Cluster executors: a pysqa configuration directory (queue.yaml and its templates). */
    pysqa_config_directory: z.string().min(1).max(4096).nullable().default(null)
  })
  .strict();
export type ExecutorOptions = z.infer<typeof ExecutorOptions>;

const header = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ v: z.literal(PROTOCOL_VERSION), type: z.literal(type), ...shape }).strict();

// ---- kernel (client) -> bridge
export const ClientHello = header('hello', {
  client_id: id,
  pid: z.number().int().min(0),
  python: z.string().max(4096),
  kernel_id: z.string().max(128).nullable(),
  /** Folders the kernel imports from (its cwd, executorlab's parent): workers get them on PYTHONPATH. */
  pythonpath: z.array(z.string().max(4096)).max(64)
});
/**
 * Sent by a client's second socket, which only sends (a kernel thread sends on it at once instead of
 * waking the client's I/O thread); the client said hello as `client_id` on the socket that receives.
 */
export const Attach = header('attach', { client_id: id });
export const CreateExecutor = header('create_executor', {
  request_id: id,
  executor_id: id,
  name: z.string().max(256),
  backend: z.enum(BACKENDS),
  options: ExecutorOptions
});
export const Submit = header('submit', {
  task_id: id,
  executor_id: id,
  fn_name: z.string().max(256),
  /** A short text of the arguments for the panel ("1, 2", "ndarray(1000,)"); never parsed. */
  args: z.string().max(200).nullable().default(null),
  resource_dict: ResourceDict,
  /** Tasks whose results the arguments refer to; the task waits for them in the bridge. */
  dependencies: z.array(id).max(100_000).default([]),
  /** Look the result up in, and write it to, `<directory>/<key>_o.h5`; 3 more blobs follow. */
  cache: z
    .object({
      directory: z.string().min(1).max(4096).refine(d => d.startsWith('/'), 'must be an absolute path'),
      key: z
        .string()
        .min(1)
        .max(300)
        .refine(k => !/[/\\\0]/.test(k) && !k.startsWith('.'), "a file name: no '/', '\\' or leading '.'")
    })
    .strict()
    .nullable()
    .default(null)
});
export const Cancel = header('cancel', { task_id: id });
/** Checked once per distinct dict by the client, so a bad one fails at the submit() that passed it. */
export const ValidateResources = header('validate_resources', {
  request_id: id,
  executor_id: id,
  resource_dict: z.unknown()
});
/** Block allocation: grow or shrink the pool of warm workers. */
export const ResizeExecutor = header('resize_executor', { request_id: id, executor_id: id, max_workers: count });
/** Sent by an idle client so the bridge knows it is alive; a silent client is treated as gone. */
export const Heartbeat = header('heartbeat', {});
/** The client is going away on purpose (interpreter exit). */
export const Bye = header('bye', {});
export const ShutdownExecutor = header('shutdown_executor', {
  request_id: id,
  executor_id: id,
  wait: z.boolean(),
  cancel_futures: z.boolean()
});
/** Use an executor started from the panel (or by another kernel) by its name: `executorlab.connect(name)`. */
export const AttachExecutor = header('attach_executor', { request_id: id, name: z.string().min(1).max(256) });
export const ClientMessage = z.discriminatedUnion('type', [
  AttachExecutor,
  ClientHello,
  Attach,
  CreateExecutor,
  Submit,
  Cancel,
  ValidateResources,
  ResizeExecutor,
  Heartbeat,
  Bye,
  ShutdownExecutor
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Blobs a submit carries: the function, and (args, kwargs) pickled together. */
export const SUBMIT_BLOBS = 2;
/** A submit with `cache` carries these after them: input_args, input_kwargs, resource_dict (pickles). */
export const CACHE_BLOBS = 3;

// ---- worker -> bridge
export const WorkerHello = header('hello', {
  worker_id: id,
  ranks: count,
  host: z.string().max(256),
  pid: z.number().int().min(0)
});
const failure = {
  error_type: z.string().max(256),
  error_message: z.string().max(100_000),
  traceback: z.string().max(1_000_000)
};
export const WorkerResult = z.discriminatedUnion('ok', [
  header('result', { task_id: id, ok: z.literal(true), runtime: z.number().min(0), summary: z.string().max(1000).optional(), brief: z.string().max(200).optional() }),
  header('result', { task_id: id, ok: z.literal(false), runtime: z.number().min(0), ...failure })
]);
export const WorkerInitResult = z.discriminatedUnion('ok', [
  header('init_result', { ok: z.literal(true) }),
  header('init_result', { ok: z.literal(false), ...failure })
]);
export const WorkerStream = header('stream', {
  task_id: id,
  /** Sent by MPI ranks > 0, which connect on their own: the worker (rank 0's hello) whose task printed. */
  worker_id: id.optional(),
  name: z.enum(['stdout', 'stderr']),
  text: z.string().max(1_000_000)
});
/** Every 2 s from a connected worker (rank 0's own process): what the usage view shows of it. */
export const WorkerHeartbeat = header('heartbeat', {
  /** User + system CPU time of the process so far (os.times()), seconds. */
  cpu_seconds: z.number().min(0).max(1e12),
  /** Resident memory, bytes. */
  rss: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  host: z.string().max(256),
  pid: z.number().int().min(0)
});
/**
 * A worker's echo socket: its first message (the echo socket's hello), then each `echo` the bridge sends it,
 * sent back by libzmq (zmq_proxy) in a thread that does not need Python's GIL. It tells a worker busy in a
 * long GIL-holding call (alive) from one that stopped or whose node went away (silent).
 */
export const WorkerEcho = header('echo', { worker_id: id });
const workerSchemas = {
  hello: WorkerHello,
  result: WorkerResult,
  init_result: WorkerInitResult,
  stream: WorkerStream,
  heartbeat: WorkerHeartbeat,
  echo: WorkerEcho
} as const;
export type WorkerMessage =
  | z.infer<typeof WorkerHello>
  | z.infer<typeof WorkerResult>
  | z.infer<typeof WorkerInitResult>
  | z.infer<typeof WorkerStream>
  | z.infer<typeof WorkerHeartbeat>
  | z.infer<typeof WorkerEcho>;

// ---- bridge -> anyone
export type TaskState = 'waiting' | 'queued' | 'running' | 'done' | 'error' | 'cancelled';
export type Failure = { error_type: string; error_message: string; traceback: string };

/** What a kernel learns of an executor it attaches to. */
export interface AttachedExecutor {
  executor_id: string;
  name: string;
  backend: string;
  options: ExecutorOptions;
  cache_directory: string | null;
}

export type BridgeToClient =
  | { v: 1; type: 'welcome'; instance_id: string; bridge_version: string }
  | { v: 1; type: 'reply'; request_id: string; ok: true; executor?: AttachedExecutor }
  | { v: 1; type: 'reply'; request_id: string; ok: false; error: string }
  | { v: 1; type: 'task_state'; task_id: string; state: TaskState }
  | ({ v: 1; type: 'result'; task_id: string; runtime: number } & ({ ok: true } | ({ ok: false } & Failure)))
  | { v: 1; type: 'stream'; task_id: string; name: 'stdout' | 'stderr'; text: string }
  | { v: 1; type: 'error'; message: string; task_id?: string };

export type BridgeToWorker =
  /** Blobs: the function, (args, kwargs), then one result blob per entry of `dependencies`, in order. */
  | { v: 1; type: 'task'; task_id: string; fn_name: string; dependencies: string[]; summarize?: true }
  /** Frame: the init_function blob; its returned dict's keys become default kwargs of later calls. */
  | { v: 1; type: 'init' }
  /** Cancel a task sent ahead to this worker that it has not started; ignored if it has. */
  | { v: 1; type: 'drop'; task_id: string }
  | { v: 1; type: 'shutdown' }
  /** To the worker's echo socket, which sends it back unread (liveness without the worker's GIL). */
  | { v: 1; type: 'echo'; worker_id: string };

export class ProtocolError extends Error {
  constructor(
    message: string,
    /** Ids found in the refused header, so the answer reaches the call that is waiting for it. */
    readonly taskId?: string,
    readonly requestId?: string
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function parseJson(frame: Buffer | undefined, maxBytes: number): unknown {
  if (!frame) throw new ProtocolError('empty message: frame 0 must be a JSON header');
  if (frame.length > maxBytes) throw new ProtocolError(`header of ${frame.length} bytes exceeds ${maxBytes}`);
  try {
    return JSON.parse(frame.toString('utf8'));
  } catch {
    throw new ProtocolError('frame 0 is not valid JSON');
  }
}

function explain(error: z.ZodError, root = 'header'): string {
  return error.issues
    // Custom issues come from the resource_dict validator, whose sentences name the key themselves.
    .map(i => (i.code === z.ZodIssueCode.custom ? i.message : `${i.path.length ? i.path.join('.') : root}: ${i.message}`))
    .slice(0, 5)
    .join('; ');
}

function stringField(raw: unknown, name: 'task_id' | 'request_id'): string | undefined {
  const value = (raw as Record<string, unknown> | null)?.[name];
  return typeof value === 'string' ? value : undefined;
}

function checkVersion(raw: unknown): void {
  const v = (raw as { v?: unknown } | null)?.v;
  if (v !== PROTOCOL_VERSION) {
    throw new ProtocolError(`unsupported protocol version ${JSON.stringify(v)}; this bridge speaks v${PROTOCOL_VERSION}`);
  }
}

/** Bytes of one message's JSON header at most. */
export const MAX_HEADER = 1 << 20;

/** Validate a kernel's header (`raw`: frame 0 already parsed); throws ProtocolError saying what was wrong. */
export function decodeClientHeader(frame: Buffer | undefined, raw: unknown = parseJson(frame, MAX_HEADER)): ClientMessage {
  checkVersion(raw);
  const parsed = ClientMessage.safeParse(raw);
  if (!parsed.success) {
    throw new ProtocolError(`invalid message: ${explain(parsed.error)}`, stringField(raw, 'task_id'), stringField(raw, 'request_id'));
  }
  return parsed.data;
}

/** Validate a worker's header (`raw`: frame 0 already parsed); throws ProtocolError saying what was wrong. */
export function decodeWorkerHeader(frame: Buffer | undefined, raw: unknown = parseJson(frame, MAX_HEADER)): WorkerMessage {
  checkVersion(raw);
  const type = (raw as { type?: unknown }).type;
  const schema = workerSchemas[type as keyof typeof workerSchemas];
  if (!schema) throw new ProtocolError(`unknown message type ${JSON.stringify(type)}`);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ProtocolError(`invalid ${String(type)}: ${explain(parsed.error)}`, stringField(raw, 'task_id'));
  return parsed.data;
}
