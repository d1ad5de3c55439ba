import { BridgeEvent, IExecutorView, ITaskView, TASK_STATES, TaskState } from '../tokens';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumberOrNull(value: unknown): value is number | null {
  return value === null || typeof value === 'number';
}

function isStringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/**
 * Whether `value` has the shape of a `TaskView` as documented in the bridge API.
 */
export function isTaskView(value: unknown): value is ITaskView {
  if (!isObject(value)) {
    return false;
  }
  const resources = value.resources;
  return (
    typeof value.id === 'string' &&
    typeof value.executor_id === 'string' &&
    typeof value.executor_name === 'string' &&
    typeof value.fn_name === 'string' &&
    TASK_STATES.includes(value.state as TaskState) &&
    typeof value.submitted_at === 'number' &&
    isNumberOrNull(value.started_at) &&
    isNumberOrNull(value.finished_at) &&
    isNumberOrNull(value.runtime) &&
    isObject(resources) &&
    typeof resources.cores === 'number' &&
    typeof resources.threads_per_core === 'number' &&
    typeof resources.gpus_per_core === 'number' &&
    isStringOrNull(value.error_type) &&
    typeof value.client_id === 'string'
  );
}

/**
 * Whether `value` has the shape of an `ExecutorView` as documented in the bridge API.
 */
export function isExecutorView(value: unknown): value is IExecutorView {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    typeof value.name === 'string' &&
    typeof value.backend === 'string' &&
    typeof value.client_id === 'string' &&
    isNumberOrNull(value.max_cores) &&
    isNumberOrNull(value.max_workers) &&
    typeof value.cores_in_use === 'number' &&
    typeof value.running === 'number' &&
    typeof value.unfinished === 'number' &&
    typeof value.orphaned === 'boolean'
  );
}

/**
 * Decode one text frame from the events socket.
 *
 * Tasks that do not match the documented shape are dropped (and logged) so one
 * bad record never hides the others. Unknown message types yield null: newer
 * bridges may push events this frontend does not know yet.
 */
export function parseBridgeEvent(data: unknown): BridgeEvent | null {
  if (typeof data !== 'string') {
    return null;
  }
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    console.warn('executorlab: ignoring a non-JSON event from the bridge');
    return null;
  }
  if (!isObject(message)) {
    return null;
  }
  const type = message.type;
  if (type === 'executors') {
    if (!Array.isArray(message.executors)) {
      return null;
    }
    return { type, executors: message.executors.filter(isExecutorView) };
  }
  if (type !== 'snapshot' && type !== 'tasks') {
    return null;
  }
  if (!Array.isArray(message.tasks)) {
    console.warn(`executorlab: "${type}" event without a tasks list`);
    return null;
  }
  const tasks = message.tasks.filter(isTaskView);
  if (tasks.length !== message.tasks.length) {
    console.warn(
      `executorlab: dropped ${message.tasks.length - tasks.length} malformed task(s) from a "${type}" event`
    );
  }
  return { type, tasks };
}
