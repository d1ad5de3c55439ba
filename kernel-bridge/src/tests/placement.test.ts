// Where the bridge runs: local, a SLURM job, a flux instance; commands are faked, parsing is pinned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism, hostname } from 'node:os';
import {
  detectPlacement,
  FLUX_RESOURCE_COMMAND,
  parseFluxResources,
  parseSqueueTime,
  PlacementProbe,
  slurmGpus,
  squeueTimeCommand,
  type Runner
} from '../resources/placement.js';

interface Call {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** A runner that answers every command with `answer` and records what it was asked to run. */
function fakeRunner(answer: { exitCode: number; stdout: string } | Error): Runner & { calls: Call[] } {
  const calls: Call[] = [];
  const run: Runner = async (file, args, env) => {
    calls.push({ file, args, env });
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return Object.assign(run, { calls });
}

const SLURM_ENV = {
  SLURM_JOB_ID: '123',
  SLURM_JOB_NUM_NODES: '2',
  SLURM_JOB_CPUS_PER_NODE: '4(x2)',
  SLURM_JOB_NODELIST: 'node[01-02]',
  SLURM_GPUS_ON_NODE: '1'
};

test('inside a SLURM job: allocation from SLURM_*, time left and end time from one squeue call', async () => {
  const run = fakeRunner({ exitCode: 0, stdout: '1:23:45|2026-11-21T15:00:00\n' });
  const placement = await detectPlacement({ ...SLURM_ENV, SLURM_TIME_FORMAT: 'relative' }, run);
  assert.deepEqual(placement, {
    kind: 'slurm',
    hostname: hostname(),
    job_id: '123',
    nodes: 2,
    node_list: 'node[01-02]',
    cpus: 8,
    gpus: 2,
    time_left: '1:23:45',
    // squeue prints the end in local time, without an offset.
    end_time: new Date(2026, 10, 21, 15, 0, 0).getTime()
  });
  assert.deepEqual(run.calls.map(({ file, args }) => ({ file, args })), [
    { file: 'squeue', args: ['--noheader', '--jobs=123', '--format=%L|%e'] }
  ]);
  // The end time is read in squeue's standard form whatever the user's SLURM_TIME_FORMAT.
  assert.equal(run.calls[0].env.SLURM_TIME_FORMAT, 'standard');
  assert.equal(run.calls[0].env.SLURM_JOB_ID, '123');
  assert.deepEqual(squeueTimeCommand('7'), ['squeue', '--noheader', '--jobs=7', '--format=%L|%e']);
});

test('squeue missing, failing or printing nothing leaves the times null and the rest intact', async () => {
  for (const run of [
    fakeRunner(Object.assign(new Error('spawn squeue ENOENT'), { code: 'ENOENT' })),
    fakeRunner({ exitCode: -1, stdout: '' }),
    fakeRunner({ exitCode: 1, stdout: 'slurm_load_jobs error: Invalid job id specified' }),
    fakeRunner({ exitCode: 0, stdout: '' })
  ]) {
    const placement = await detectPlacement(SLURM_ENV, run);
    assert.equal(placement.kind, 'slurm');
    assert.ok(placement.kind === 'slurm');
    assert.equal(placement.time_left, null);
    assert.equal(placement.end_time, null);
    assert.equal(placement.cpus, 8);
    assert.equal(placement.job_id, '123');
  }
});

test('squeue time fields: days, unlimited, unknown and garbage', () => {
  assert.deepEqual(parseSqueueTime('2-03:04:05|2026-01-02T03:04:05'), {
    time_left: '2-03:04:05',
    end_time: new Date(2026, 0, 2, 3, 4, 5).getTime()
  });
  assert.deepEqual(parseSqueueTime('UNLIMITED|Unknown'), { time_left: 'UNLIMITED', end_time: null });
  // An unlimited job has no end, whatever squeue prints for it.
  assert.deepEqual(parseSqueueTime('UNLIMITED|2160-01-01T00:00:00'), { time_left: 'UNLIMITED', end_time: null });
  assert.deepEqual(parseSqueueTime('INVALID|N/A'), { time_left: null, end_time: null });
  assert.deepEqual(parseSqueueTime('NOT_SET|NONE'), { time_left: null, end_time: null });
  assert.deepEqual(parseSqueueTime('45:00|N/A'), { time_left: '45:00', end_time: null });
  assert.deepEqual(parseSqueueTime('\n  10:00|2026-11-21T15:00:00  \n9:00|2026-11-21T14:59:00\n').time_left, '10:00');
  assert.deepEqual(parseSqueueTime('no pipe here'), { time_left: null, end_time: null });
});

test('SLURM GPUs: a job total, or a per-node count times the nodes; null when no variable tells', () => {
  assert.equal(slurmGpus({ SLURM_GPUS: '3', SLURM_GPUS_ON_NODE: '2' }, 2), 3);
  assert.equal(slurmGpus({ SLURM_GPUS: 'a100:2' }, 4), 2);
  assert.equal(slurmGpus({ SLURM_GPUS_PER_NODE: 'a100:2' }, 2), 4);
  assert.equal(slurmGpus({ SLURM_GPUS_ON_NODE: '4' }, 1), 4);
  assert.equal(slurmGpus({ SLURM_JOB_GPUS: '0,1,3' }, 1), 3);
  assert.equal(slurmGpus({ SLURM_JOB_GPUS: '' }, 1), 0);
  assert.equal(slurmGpus({}, 2), null);
  assert.equal(slurmGpus({ SLURM_GPUS: 'lots' }, 1), null);
});

test('a SLURM job without GPU variables reports gpus null', async () => {
  const placement = await detectPlacement({ SLURM_JOBID: '9', SLURM_CPUS_ON_NODE: '16' }, fakeRunner({ exitCode: 0, stdout: 'UNLIMITED|Unknown' }));
  assert.deepEqual(placement, {
    kind: 'slurm', hostname: hostname(), job_id: '9', nodes: 1, node_list: null, cpus: 16, gpus: null, time_left: 'UNLIMITED', end_time: null
  });
});

test('inside a flux instance: one `flux resource list` of the up resources; it wins over SLURM_*', async () => {
  const run = fakeRunner({ exitCode: 0, stdout: '      4     64      8\n' });
  const placement = await detectPlacement({ ...SLURM_ENV, FLUX_URI: 'local:///tmp/flux-abc/local-0' }, run);
  assert.deepEqual(placement, {
    kind: 'flux', hostname: hostname(), uri: 'local:///tmp/flux-abc/local-0', nodes: 4, cpus: 64, gpus: 8
  });
  assert.deepEqual(run.calls.map(({ file, args }) => ({ file, args })), [{ file: 'flux', args: FLUX_RESOURCE_COMMAND.slice(1) }]);
  assert.equal(run.calls[0].env.FLUX_URI, 'local:///tmp/flux-abc/local-0');
  assert.deepEqual(FLUX_RESOURCE_COMMAND, ['flux', 'resource', 'list', '--states=up', '--no-header', '--format={nnodes} {ncores} {ngpus}']);
});

test('flux output: lines summed, anything else (or a failing flux) gives nulls', async () => {
  assert.deepEqual(parseFluxResources('2 32 0\n1 16 2\n'), { nodes: 3, cpus: 48, gpus: 2 });
  assert.deepEqual(parseFluxResources(''), { nodes: null, cpus: null, gpus: null });
  assert.deepEqual(parseFluxResources('NNODES NCORES NGPUS\n1 2 0'), { nodes: null, cpus: null, gpus: null });
  for (const run of [fakeRunner({ exitCode: 1, stdout: '' }), fakeRunner(new Error('spawn flux ENOENT'))]) {
    assert.deepEqual(await detectPlacement({ FLUX_URI: 'ssh://host/tmp/x' }, run), {
      kind: 'flux', hostname: hostname(), uri: 'ssh://host/tmp/x', nodes: null, cpus: null, gpus: null
    });
  }
});

test('outside any allocation: this machine, its CPUs and the GPUs the caller found; no command runs', async () => {
  const run = fakeRunner({ exitCode: 0, stdout: '' });
  assert.deepEqual(await detectPlacement({}, run), { kind: 'local', hostname: hostname(), cpus: availableParallelism(), gpus: 0 });
  assert.deepEqual(await detectPlacement({ PATH: '/usr/bin' }, run, 2), {
    kind: 'local', hostname: hostname(), cpus: availableParallelism(), gpus: 2
  });
  assert.deepEqual(run.calls, []);
});

test('the default runner never throws when squeue is not installed', async () => {
  const placement = await detectPlacement({ ...SLURM_ENV, PATH: '/nonexistent' });
  assert.ok(placement.kind === 'slurm');
  assert.equal(placement.time_left, null);
});

test('PlacementProbe detects once per 30 s, shares concurrent detections, and answers synchronously', async () => {
  let clock = 1_000_000;
  let answers = 0;
  const run: Runner = async () => {
    answers += 1;
    return { exitCode: 0, stdout: `0:${String(60 - answers).padStart(2, '0')}:00|N/A` };
  };
  const probe = new PlacementProbe({ env: SLURM_ENV, run, now: () => clock });
  assert.equal(probe.latest(), null, 'nothing is known before the first detection');
  const [a, b] = await Promise.all([probe.current(), probe.current()]);
  assert.equal(answers, 1);
  assert.equal(a, b);
  assert.ok(a.kind === 'slurm' && a.time_left === '0:59:00');
  clock += 29_999;
  assert.equal(await probe.current(), a);
  assert.equal(probe.latest(), a);
  assert.equal(answers, 1);
  clock += 1;
  // Stale: latest() still answers at once with the old value and refreshes behind it.
  assert.equal(probe.latest(), a);
  const refreshed = await probe.current();
  assert.equal(answers, 2);
  assert.ok(refreshed.kind === 'slurm' && refreshed.time_left === '0:58:00');
  assert.equal(probe.latest(), refreshed);
});

test('PlacementProbe reads the local GPU count at each detection', async () => {
  let gpus = 0;
  const probe = new PlacementProbe({ env: {}, localGpus: () => gpus, maxAgeMs: 0 });
  assert.equal((await probe.current()).gpus, 0);
  gpus = 4;
  assert.equal((await probe.current()).gpus, 4);
});
