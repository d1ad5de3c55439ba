import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { useNow } from '../tasks/hooks';
import { Placement } from '../tokens';

/**
 * Below this many milliseconds left, the SLURM job's time is shown as running out.
 */
export const LOW_TIME_LEFT_MS = 10 * 60 * 1000;

export interface IPlacementNoticeProps {
  /** Where the bridge runs; nothing is rendered while unknown. */
  placement: Placement | null;
  trans: TranslationBundle;
  /** Epoch milliseconds to count the time left from; the ticking clock when omitted. */
  now?: number;
}

/**
 * Milliseconds as squeue prints time left: `1-02:03:04`, `1:23:45`, `0:05:00`.
 */
export function formatTimeLeft(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  const clock = `${hours}:${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}`;
  return days > 0 ? `${days}-${clock.padStart(8, '0')}` : clock;
}

interface ILines {
  /** The compact line's parts, joined by " · ". */
  parts: string[];
  /** One detail a line, for the tooltip. */
  details: string[];
  /** Milliseconds left in a SLURM job, when its end is known. */
  leftMs: number | null;
}

function describe(
  placement: Placement,
  now: number,
  trans: TranslationBundle
): ILines {
  const cpus = (n: number) => trans._n('%1 CPU', '%1 CPUs', n);
  const gpus = (n: number) => trans._n('%1 GPU', '%1 GPUs', n);
  const nodes = (n: number) => trans._n('%1 node', '%1 nodes', n);
  const host = trans.__('Bridge host: %1', placement.hostname);

  switch (placement.kind) {
    case 'local': {
      const parts = [trans.__('Local'), placement.hostname, cpus(placement.cpus)];
      if (placement.gpus > 0) {
        parts.push(gpus(placement.gpus));
      }
      return {
        parts,
        details: [
          trans.__('The bridge runs on this machine, outside any batch system.'),
          host
        ],
        leftMs: null
      };
    }
    case 'slurm': {
      const parts = [
        trans.__('SLURM job %1', placement.job_id),
        nodes(placement.nodes),
        cpus(placement.cpus)
      ];
      if (placement.gpus !== null && placement.gpus > 0) {
        parts.push(gpus(placement.gpus));
      }
      const details = [trans.__('SLURM job: %1', placement.job_id), host];
      if (placement.node_list) {
        details.push(trans.__('Nodes: %1', placement.node_list));
      }
      let leftMs: number | null = null;
      if (placement.end_time !== null) {
        leftMs = placement.end_time - now;
        parts.push(
          leftMs > 0
            ? trans.__('%1 left', formatTimeLeft(leftMs))
            : trans.__('time is up')
        );
        details.push(
          trans.__('Ends: %1', new Date(placement.end_time).toLocaleString())
        );
      } else if (placement.time_left === 'UNLIMITED') {
        parts.push(trans.__('no time limit'));
      } else if (placement.time_left !== null) {
        parts.push(trans.__('%1 left', placement.time_left));
      }
      return { parts, details, leftMs };
    }
    case 'flux': {
      const parts = [trans.__('flux instance')];
      if (placement.nodes !== null) {
        parts.push(nodes(placement.nodes));
      }
      if (placement.cpus !== null) {
        parts.push(cpus(placement.cpus));
      }
      if (placement.gpus !== null && placement.gpus > 0) {
        parts.push(gpus(placement.gpus));
      }
      const details = [trans.__('flux instance: %1', placement.uri), host];
      if (placement.nodes === null) {
        details.push(trans.__('`flux resource list` did not answer.'));
      }
      return { parts, details, leftMs: null };
    }
  }
}

/**
 * One line telling where the bridge runs: on its host, in a SLURM job (with the
 * time left, counting down), or in a flux instance. Details are in its tooltip.
 */
export function PlacementNotice({
  placement,
  trans,
  now
}: IPlacementNoticeProps): JSX.Element | null {
  const ticks =
    now === undefined &&
    placement?.kind === 'slurm' &&
    placement.end_time !== null;
  const clock = useNow(ticks);
  if (!placement) {
    return null;
  }
  const { parts, details, leftMs } = describe(placement, now ?? clock, trans);
  return (
    <div
      className="jp-executorlab-PlacementNotice"
      data-kind={placement.kind}
      data-time-low={
        leftMs !== null && leftMs < LOW_TIME_LEFT_MS ? 'true' : undefined
      }
      title={details.join('\n')}
    >
      {parts.join(' · ')}
    </div>
  );
}
