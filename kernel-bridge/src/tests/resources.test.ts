import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  blockAllocationProblems,
  blockGpuProblem,
  localResourceProblems,
  mergeResourceDicts,
  type LocalFacts
} from '../resources/capabilities.js';
import { taskEnvironment } from '../resources/environment.js';
import { GpuPool } from '../resources/gpu-pool.js';
import { HostProbe, parseNvidiaSmi, visibleGpus } from '../resources/host.js';
import { RESOURCE_DICT_SCHEMA, RESOURCE_KEYS, type ResourceDict } from '../resources/schema.js';
import { resourceDictProblem, resourceDictProblems, SUPPORTED_KEYWORDS } from '../resources/validate.js';

// ---- the schema and its validator

test('the schema holds executorlib keys, each described, with only keywords the validator understands', () => {
  // Fails to compile when the ResourceDict interface and this list part ways.
  const keys: Record<keyof ResourceDict, true> = {
    cores: true,
    threads_per_core: true,
    gpus_per_core: true,
    cwd: true,
    cache_key: true,
    cache_directory: true,
    num_nodes: true,
    exclusive: true,
    error_log_file: true,
    run_time_max: true,
    priority: true,
    slurm_cmd_args: true,
    submission_template: true,
    memory_max: true,
    partition: true,
    openmpi_oversubscribe: true
  };
  assert.deepEqual([...RESOURCE_KEYS].sort(), Object.keys(keys).sort());
  assert.equal(RESOURCE_DICT_SCHEMA.additionalProperties, false);
  for (const keyword of Object.keys(RESOURCE_DICT_SCHEMA)) assert.ok((SUPPORTED_KEYWORDS.object as readonly string[]).includes(keyword), keyword);
  for (const [key, property] of Object.entries(RESOURCE_DICT_SCHEMA.properties)) {
    assert.ok(property.description && property.description.length > 20, `${key} has a description`);
    for (const keyword of Object.keys(property)) {
      assert.ok((SUPPORTED_KEYWORDS.property as readonly string[]).includes(keyword), `${key}.${keyword} is understood`);
    }
  }
});

test("valid dicts pass, including executorlib's defaults and None for any key", () => {
  const valid: unknown[] = [
    {},
    { cores: 1, threads_per_core: 1, gpus_per_core: 0, cwd: null, openmpi_oversubscribe: false, slurm_cmd_args: [] },
    { cores: 4, cwd: '/tmp', cache_key: 'a/b', run_time_max: 60, priority: 31, exclusive: true, num_nodes: 2 },
    { cores: 2.0 },
    Object.fromEntries(RESOURCE_KEYS.map(key => [key, null]))
  ];
  for (const dict of valid) assert.deepEqual(resourceDictProblems(dict), [], JSON.stringify(dict));
});

test('each problem names the key, the value given and what is allowed', () => {
  const cases: [unknown, string][] = [
    [{ cores: 0 }, "resource_dict['cores'] must be an integer ≥ 1 or None, got 0"],
    [{ cores: 'two' }, "resource_dict['cores'] must be an integer ≥ 1 or None, got 'two' (a string)"],
    [{ cores: true }, "resource_dict['cores'] must be an integer ≥ 1 or None, got True (a bool)"],
    [{ threads_per_core: 1.5 }, "resource_dict['threads_per_core'] must be an integer ≥ 1 or None, got 1.5 (a float)"],
    [{ gpus_per_core: -1 }, "resource_dict['gpus_per_core'] must be an integer ≥ 0 or None, got -1"],
    [{ priority: 32 }, "resource_dict['priority'] must be an integer from 0 to 31 or None, got 32"],
    [{ run_time_max: 0 }, "resource_dict['run_time_max'] must be an integer from 1 to 31536000 or None, got 0"],
    [{ exclusive: 'yes' }, "resource_dict['exclusive'] must be True, False or None, got 'yes' (a string)"],
    [{ cwd: 5 }, "resource_dict['cwd'] must be a string of at most 4096 characters or None, got 5 (an integer)"],
    [{ cache_key: '' }, "resource_dict['cache_key'] must be a non-empty string of at most 1024 characters or None, got ''"],
    [{ slurm_cmd_args: '--exclusive' }, "resource_dict['slurm_cmd_args'] must be a list of strings (at most 256) or None, got '--exclusive' (a string)"],
    [{ slurm_cmd_args: ['-A', 7] }, "resource_dict['slurm_cmd_args'][1] must be a string of at most 4096 characters, got 7 (an integer)"],
    ['cores=2', "resource_dict must be a dict, got 'cores=2' (a string)"],
    [[1, 2], 'resource_dict must be a dict, got [1, 2] (a list)']
  ];
  for (const [dict, message] of cases) assert.deepEqual(resourceDictProblems(dict), [message]);
});

test('unknown keys are named with the allowed keys; every problem is reported', () => {
  const problem = resourceDictProblem({ colour: 'red', cores: 0, size: 1 }) ?? '';
  assert.ok(problem.startsWith(`resource_dict: unknown keys 'colour', 'size'; allowed keys: ${RESOURCE_KEYS.join(', ')}`), problem);
  assert.match(problem, /; resource_dict\['cores'\] must be an integer ≥ 1/);
  assert.equal(resourceDictProblem({ openmpi_oversubscribe: true }), null);
  assert.match(resourceDictProblem({ restart_limit: 2 }) ?? '', /unknown key 'restart_limit'/);
});

test('a key named like an Object.prototype member is unknown, not a crash', () => {
  assert.match(resourceDictProblem(JSON.parse('{"__proto__": 1, "toString": 2}')) ?? '', /unknown keys '__proto__', 'toString'/);
});

// ---- merging and what this machine can honour

const facts = (over: Partial<LocalFacts> = {}): LocalFacts => ({
  gpus: { devices: [], source: 'nvidia-smi is not on PATH' },
  mpiexec: '/usr/bin/mpiexec',
  mpi4py: null,
  python: '/usr/bin/python3',
  executorName: 'SingleNodeExecutor',
  ...over
});

test('a call overrides executor defaults key by key; None hides nothing', () => {
  assert.deepEqual(mergeResourceDicts({ cores: 2, cwd: '/tmp' }, { cores: 1, cwd: null, threads_per_core: 3 }), {
    cores: 1,
    cwd: '/tmp',
    threads_per_core: 3
  });
});

test('keys only a cluster scheduler honours are refused on this machine, naming the executors that do', () => {
  const refused: [ResourceDict, RegExp][] = [
    [{ num_nodes: 2 }, /^resource_dict\['num_nodes'\]=2 is only honoured by the SLURM\/flux executors \(SlurmJobExecutor, /],
    [{ exclusive: true }, /^resource_dict\['exclusive'\]=True is only honoured by the SLURM\/flux executors/],
    [{ slurm_cmd_args: ['--exact'] }, /^resource_dict\['slurm_cmd_args'\]=\['--exact'\] is only honoured/],
    [{ submission_template: '#!/bin/bash' }, /^resource_dict\['submission_template'\] is only honoured/],
    [{ priority: 0 }, /^resource_dict\['priority'\]=0 is only honoured/]
  ];
  for (const [dict, message] of refused) {
    const problems = localResourceProblems(dict, facts());
    assert.equal(problems.length, 1, JSON.stringify(dict));
    assert.match(problems[0], message);
    assert.match(problems[0], /SingleNodeExecutor runs every call as a process on this machine/);
  }
  const harmless: ResourceDict = { num_nodes: 1, exclusive: false, slurm_cmd_args: [], cache_key: 'k', cache_directory: 'c', error_log_file: 'e' };
  assert.deepEqual(localResourceProblems(harmless, facts()), []);
});

test('cwd must be an existing directory', () => {
  const folder = mkdtempSync(join(tmpdir(), 'cwd-'));
  const file = join(folder, 'file.txt');
  writeFileSync(file, '');
  assert.deepEqual(localResourceProblems({ cwd: folder }, facts()), []);
  assert.deepEqual(localResourceProblems({ cwd: join(folder, 'missing') }, facts()), [
    `resource_dict['cwd']='${join(folder, 'missing')}' does not exist; the worker's working directory must exist`
  ]);
  assert.match(localResourceProblems({ cwd: file }, facts())[0], /is not a directory/);
});

test('GPUs: a call needs cores × gpus_per_core of the detected ones', () => {
  assert.deepEqual(localResourceProblems({ gpus_per_core: 1 }, facts()), [
    "resource_dict['gpus_per_core']=1 asks for 1 GPU per call (cores × gpus_per_core) but this machine has 0 (nvidia-smi is not on PATH)"
  ]);
  const two = facts({ gpus: { devices: ['0', '1'], source: '2 listed by nvidia-smi -L' } });
  assert.deepEqual(localResourceProblems({ cores: 2, gpus_per_core: 1 }, two), []);
  assert.match(localResourceProblems({ cores: 2, gpus_per_core: 2 }, two)[0], /asks for 4 GPUs per call .* has 2 \(2 listed/);
});

test('MPI: cores > 1 needs mpiexec and mpi4py, naming the Debian packages', () => {
  assert.deepEqual(localResourceProblems({ cores: 2 }, facts()), []);
  assert.match(localResourceProblems({ cores: 2 }, facts({ mpiexec: null }))[0], /^resource_dict\['cores'\]=2 .*mpiexec on PATH \(Debian package openmpi-bin\)/);
  assert.match(
    localResourceProblems({ cores: 2 }, facts({ mpi4py: "ModuleNotFoundError: No module named 'mpi4py'" }))[0],
    /mpi4py in \/usr\/bin\/python3 \(Debian package python3-mpi4py\); importing it failed: ModuleNotFoundError/
  );
  assert.deepEqual(localResourceProblems({ cores: 1 }, facts({ mpiexec: null })), []);
});

test('block allocation refuses any per-call resources and GPUs the pool cannot hold', () => {
  assert.deepEqual(blockAllocationProblems(undefined, 'SingleNodeExecutor'), []);
  assert.deepEqual(blockAllocationProblems({ cores: null }, 'SingleNodeExecutor'), []);
  assert.match(blockAllocationProblems({ cores: 2 }, 'SingleNodeExecutor')[0], /have to be defined on the executor level: SingleNodeExecutor\(resource_dict=/);
  assert.equal(blockGpuProblem({ gpus_per_core: 1 }, 2, 2), null);
  assert.match(blockGpuProblem({ gpus_per_core: 1, cores: 2 }, 2, 2) ?? '', /need 4 GPUs; this machine has 2/);
});

test('mpi4py is probed once per Python; its error ends the message', async () => {
  const probe = new HostProbe();
  assert.equal(await probe.mpi4pyProblem('/usr/bin/python3', {}), null);
  assert.equal(probe.mpi4pyProblem('/usr/bin/python3', {}), probe.mpi4pyProblem('/usr/bin/python3', {}));
  const broken = await probe.mpi4pyProblem('/bin/false', {});
  assert.ok(broken !== null && broken.length > 0);
});

// ---- GPUs and environments

test('nvidia-smi -L is parsed; CUDA_VISIBLE_DEVICES narrows it by index or UUID prefix', () => {
  const listed = parseNvidiaSmi(
    'GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-aaaa1111-2222)\nGPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-bbbb3333-4444)\nGPU 2: Tesla T4\n'
  );
  assert.deepEqual(listed, [
    { index: '0', uuid: 'GPU-aaaa1111-2222' },
    { index: '1', uuid: 'GPU-bbbb3333-4444' },
    { index: '2', uuid: null }
  ]);
  assert.deepEqual(visibleGpus(listed, undefined), ['0', '1', '2']);
  assert.deepEqual(visibleGpus(listed, '2,0'), ['2', '0']);
  assert.deepEqual(visibleGpus(listed, 'GPU-bbbb, 7'), ['GPU-bbbb']);
  assert.deepEqual(visibleGpus(listed, ''), []);
});

test('concurrent holders never share a GPU; giving back wakes waiters', () => {
  const pool = new GpuPool(['0', '1', '2']);
  let released = 0;
  pool.on('released', () => (released += 1));
  const a = pool.take(2);
  const b = pool.take(1);
  assert.deepEqual([a, b, pool.available], [['0', '1'], ['2'], 0]);
  assert.throws(() => pool.take(1), /asked for 1 GPUs while 0 are free/);
  pool.give(a);
  pool.give([]);
  assert.equal(released, 1);
  assert.deepEqual(pool.take(2), ['0', '1']);
});

test('threads_per_core sets the thread pools, GPUs set CUDA_VISIBLE_DEVICES, nothing else is touched', () => {
  assert.deepEqual(taskEnvironment({ threads_per_core: 4 }, []), { OMP_NUM_THREADS: '4', OPENBLAS_NUM_THREADS: '4', MKL_NUM_THREADS: '4' });
  assert.deepEqual(taskEnvironment({ cores: 2 }, ['1', '3']), { CUDA_VISIBLE_DEVICES: '1,3' });
  assert.deepEqual(taskEnvironment({}, []), {});
});
