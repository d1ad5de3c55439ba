// executorlib's `pysqa_config_directory`: pysqa's queue.yaml and the job script template of the chosen queue.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export class ConfigError extends Error {}

export type PysqaQueueType = 'SLURM' | 'FLUX' | (string & {});

export interface PysqaQueue {
  queueType: PysqaQueueType;
  queue: string;
  /** The queue's job script, a Jinja template. */
  template: string;
  coresMax: number | null;
  coresMin: number | null;
  /** Seconds. */
  runTimeMax: number | null;
}

type Mapping = Record<string, unknown>;

const isMapping = (value: unknown): value is Mapping => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `queue` picks one of queue.yaml's `queues`; without it, `queue_primary` does. */
export async function readPysqaConfig(directory: string, queue?: string): Promise<PysqaQueue> {
  const info = await stat(directory).catch(() => null);
  if (!info?.isDirectory()) {
    throw new ConfigError(`pysqa_config_directory ${directory} ${info ? 'is not a directory' : 'does not exist'}; it must be a directory holding queue.yaml`);
  }
  const file = join(directory, 'queue.yaml');
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) throw new ConfigError(`${file} cannot be read; a pysqa_config_directory must hold queue.yaml`);
  let config: unknown;
  try {
    config = parse(text);
  } catch (error) {
    throw new ConfigError(`${file} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isMapping(config)) throw new ConfigError(`${file} must be a mapping with queue_type, queue_primary and queues`);
  const queueType = config.queue_type;
  if (typeof queueType !== 'string' || queueType === '') {
    throw new ConfigError(`${file} needs queue_type, e.g. "queue_type: SLURM" or "queue_type: FLUX"`);
  }
  const queues = config.queues;
  if (!isMapping(queues) || Object.keys(queues).length === 0) {
    throw new ConfigError(`${file} needs queues, a mapping from queue name to {script, cores_max, cores_min, run_time_max}`);
  }
  const known = Object.keys(queues).join(', ');
  const name = queue ?? config.queue_primary;
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError(`no queue given and ${file} has no queue_primary; name one of: ${known}`);
  }
  const entry = Object.hasOwn(queues, name) ? queues[name] : undefined;
  if (entry === undefined) throw new ConfigError(`queue ${JSON.stringify(name)} is not in ${file}; known queues: ${known}`);
  if (!isMapping(entry) || typeof entry.script !== 'string' || entry.script === '') {
    throw new ConfigError(`queue ${JSON.stringify(name)} in ${file} needs script, the job script template file name`);
  }
  const script = resolve(directory, entry.script);
  const template = await readFile(script, 'utf8').catch(() => null);
  if (template === null) {
    throw new ConfigError(`the script of queue ${JSON.stringify(name)}, ${script}, cannot be read; it must exist next to queue.yaml or be an absolute path`);
  }
  const number = (key: string): number | null => {
    const value = entry[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ConfigError(`${key} of queue ${JSON.stringify(name)} in ${file} must be a non-negative number, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return {
    queueType,
    queue: name,
    template,
    coresMax: number('cores_max'),
    coresMin: number('cores_min'),
    runTimeMax: number('run_time_max')
  };
}
