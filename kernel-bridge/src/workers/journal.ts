// The worker's journal (executorlab/worker/journal.py): read when a worker dies, it says which task ran
// and holds the last results the worker sent, which ZeroMQ may not have delivered before the process
// went down.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { TaskOutcome } from '../backends/backend.js';
import { decodeWorkerHeader, ProtocolError } from '../protocol/messages.js';

export interface Journal {
  /** The task the worker started last. */
  running: string;
  /** Outcomes of the last tasks it finished, by task id. */
  results: Map<string, TaskOutcome>;
}

/** Where the worker with this id keeps its journal (next to the worker credentials file). */
export function journalPath(bridgeFile: string, workerId: string): string {
  return `${bridgeFile.replace(/\.json$/, '')}-${workerId}.journal`;
}

/** Remove the journals of this bridge's workers that are left (workers killed along with the bridge). */
export function removeJournals(bridgeFile: string): void {
  const prefix = `${basename(journalPath(bridgeFile, ''))}`.replace(/\.journal$/, '');
  let names: string[];
  try {
    names = readdirSync(dirname(bridgeFile));
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(prefix) && name.endsWith('.journal')) rmSync(join(dirname(bridgeFile), name), { force: true });
  }
}

/** The worker's result message as the outcome the scheduler takes. */
export function outcomeOf(message: Extract<ReturnType<typeof decodeWorkerHeader>, { type: 'result' }>, blobs: Buffer[]): TaskOutcome {
  return message.ok
    ? { ok: true, runtime: message.runtime, result: blobs[0] ?? Buffer.alloc(0), ...(message.summary !== undefined ? { summary: message.summary } : {}), ...(message.brief !== undefined ? { brief: message.brief } : {}) }
    : {
        ok: false,
        runtime: message.runtime,
        failure: { error_type: message.error_type, error_message: message.error_message, traceback: message.traceback },
        exception: blobs[0] ?? null
      };
}

/** Read and remove the journal; null when there is none (the worker never started a task) or it is unreadable. */
export function takeJournal(path: string): Journal | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  rmSync(path, { force: true });
  // What follows the blank line is left over from longer earlier writes.
  const [running, ...lines] = text.split('\n\n')[0].split('\n');
  if (!running) return null;
  const results = new Map<string, TaskOutcome>();
  for (const line of lines) {
    const tab = line.indexOf('\t');
    try {
      const message = decodeWorkerHeader(undefined, JSON.parse(line.slice(0, tab)));
      if (message.type !== 'result') continue;
      const blobs = line.slice(tab + 1) ? line.slice(tab + 1).split(',').map(b => Buffer.from(b, 'base64')) : [];
      results.set(message.task_id, outcomeOf(message, blobs));
    } catch (error) {
      if (!(error instanceof ProtocolError || error instanceof SyntaxError)) throw error;
    }
  }
  return { running, results };
}
