// SLURM command lines and allocation facts, pinned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slurmStepCommand, workerArgs } from '../backends/commands.js';
import { slurmConf } from '../backends/slurm.js';
import { SlurmBatchSystem } from '../cluster/batch-system.js';
import { slurmAllocation } from '../resources/slurm.js';

const base = {
  python: '/usr/bin/python3',
  bridgeFile: '/run/b-worker.json',
  workerId: 'w1',
  cores: 2,
  openmpiOversubscribe: false,
  threadsPerCore: 1,
  gpusPerCore: 0,
  cwd: null,
  numNodes: null,
  exclusive: false,
  pmiMode: 'pmix',
  runTimeMax: null,
  slurmCmdArgs: []
};

test('an srun step with only the defaults shares the allocation (--exact) and uses pmix', () => {
  assert.deepEqual(slurmStepCommand(base), ['srun', '-n', '2', '--cpus-per-task=1', '--exact', '--mpi=pmix', ...workerArgs(base)]);
});

test('every resource becomes its srun flag, slurm_cmd_args last before the worker', () => {
  const command = slurmStepCommand({
    ...base,
    cores: 4,
    threadsPerCore: 2,
    gpusPerCore: 1,
    cwd: '/scratch/run',
    numNodes: 2,
    exclusive: true,
    runTimeMax: 61,
    openmpiOversubscribe: true,
    slurmCmdArgs: ['--mem=4G', '--constraint=fast']
  });
  assert.deepEqual(command.slice(0, command.indexOf(base.python)), [
    'srun', '-n', '4', '--cpus-per-task=2', '--gpus-per-task=1', '-D', '/scratch/run', '-N', '2',
    '--mpi=pmix', '--time=2', '--oversubscribe', '--mem=4G', '--constraint=fast'
  ]);
  assert.deepEqual(slurmStepCommand({ ...base, runTimeMax: 5 }).filter(a => a.startsWith('--time')), ['--time=1']);
});

test('an exclusive step leaves out what implies --exact (--exact, --cpus-per-task, srun --exclusive): it gets whole nodes', () => {
  const command = slurmStepCommand({ ...base, cores: 1, exclusive: true });
  assert.deepEqual(command.slice(0, command.indexOf(base.python)), ['srun', '-n', '1', '--mpi=pmix']);
  assert.ok(slurmStepCommand({ ...base, exclusive: false }).includes('--exact'));
  // Threads need their CPUs per task for the layout: that step stays exact.
  assert.ok(slurmStepCommand({ ...base, exclusive: true, threadsPerCore: 2 }).includes('--cpus-per-task=2'));
});

test('the allocation comes from SLURM_* variables; none outside an allocation', () => {
  assert.equal(slurmAllocation({}), null);
  assert.deepEqual(slurmAllocation({ SLURM_JOB_ID: '42', SLURM_JOB_NUM_NODES: '3', SLURM_JOB_CPUS_PER_NODE: '4(x2),2', SLURM_JOB_NODELIST: 'n[1-3]' }), {
    jobId: '42', nodes: 3, cpus: 10, nodeList: 'n[1-3]'
  });
  assert.deepEqual(slurmAllocation({ SLURM_JOBID: '7', SLURM_CPUS_ON_NODE: '8' }), { jobId: '7', nodes: 1, cpus: 8, nodeList: null });
});

test("cluster mode uses the kernel's SLURM_CONF, else the bridge's, else SLURM's default", () => {
  assert.equal(slurmConf({ SLURM_CONF: '/k/slurm.conf' }, { SLURM_CONF: '/b/slurm.conf' }), '/k/slurm.conf');
  assert.equal(slurmConf({ SLURM_JOB_ID: '3' }, { SLURM_CONF: '/b/slurm.conf' }), '/b/slurm.conf');
  assert.equal(slurmConf({}, {}), null);
});

test('SlurmBatchSystem runs sbatch, squeue, scontrol and scancel against its own slurm.conf', async t => {
  const bin = await mkdtemp(join(tmpdir(), 'slurm-clients-'));
  t.after(() => rm(bin, { recursive: true, force: true }));
  const log = join(bin, 'calls');
  for (const [name, output] of [['sbatch', '42'], ['squeue', ''], ['scontrol', ''], ['scancel', '']]) {
    await writeFile(join(bin, name), `#!/bin/sh\necho "${name} \${SLURM_CONF:-none}" >> ${log}\necho ${output}\n`);
    await chmod(join(bin, name), 0o755);
  }
  const path = process.env.PATH;
  const conf = process.env.SLURM_CONF;
  process.env.PATH = `${bin}:${path}`;
  process.env.SLURM_CONF = '/the/bridges/slurm.conf';
  try {
    const system = new SlurmBatchSystem('/the/kernels/slurm.conf');
    assert.equal(await system.submit(join(bin, 'job.sh'), bin), '42');
    await system.states(['42']);
    await system.stderrFile('42');
    await system.cancel(['42']);
    await new SlurmBatchSystem(null).cancel(['43']);
  } finally {
    process.env.PATH = path;
    if (conf === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = conf;
  }
  assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), [
    'sbatch /the/kernels/slurm.conf',
    'squeue /the/kernels/slurm.conf',
    'scontrol /the/kernels/slurm.conf',
    'scancel /the/kernels/slurm.conf',
    // Without one of its own, the bridge's environment as it is.
    'scancel /the/bridges/slurm.conf'
  ]);
});
