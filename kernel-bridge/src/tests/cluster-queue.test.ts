// SLURM and flux batch jobs: command lines pinned, scheduler output parsed into shared job states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFinished, type JobState } from '../cluster/job-state.js';
import {
  parseSbatch,
  parseScontrolJob,
  parseSqueue,
  sbatchCommand,
  scancelCommand,
  scontrolShowJobCommand,
  slurmJobState,
  slurmTime,
  squeueCommand
} from '../cluster/slurm-queue.js';
import {
  fluxBatchCommand,
  fluxCancelCommand,
  fluxIdToDecimal,
  fluxJobsCommand,
  fluxSubmitCommand,
  parseFluxJobs,
  parseFluxSubmit
} from '../cluster/flux-queue.js';

test('only the end states are finished', () => {
  const finished: JobState[] = ['completed', 'failed', 'cancelled', 'timeout', 'out_of_memory', 'node_fail'];
  for (const state of finished) assert.equal(isFinished(state), true, state);
  for (const state of ['pending', 'running', 'unknown'] as JobState[]) assert.equal(isFinished(state), false, state);
});

test('SLURM command lines', () => {
  assert.deepEqual(sbatchCommand('/tmp/c/add/job.sh'), ['sbatch', '--parsable', '/tmp/c/add/job.sh']);
  assert.deepEqual(squeueCommand(['12', '13_1']), ['squeue', '--noheader', '--states=all', '--jobs=12,13_1', '--format=%i|%T|%N|%r']);
  assert.deepEqual(scontrolShowJobCommand('12'), ['scontrol', '--oneliner', 'show', 'job', '12']);
  assert.deepEqual(scancelCommand(['12', '13']), ['scancel', '12', '13']);
});

test('sbatch --parsable gives the job id, with or without the cluster', () => {
  assert.equal(parseSbatch('123\n'), '123');
  assert.equal(parseSbatch('123;cluster\n'), '123');
  for (const bad of ['', 'Submitted batch job 123', 'sbatch: error: Batch job submission failed', '12 13']) {
    assert.throws(() => parseSbatch(bad), /sbatch printed .*; expected a job id such as "123" or "123;cluster"/);
  }
});

test('squeue lines become job states, ids kept as printed, with the nodes (which name a NODE_FAIL job\'s lost node)', () => {
  const jobs = parseSqueue(
    ['12|PENDING||Dependency', '13|RUNNING|node1|None', '14_1|COMPLETED|node[1-2]|None', '14.0|TIMEOUT|node1|None',
      '15|CANCELLED|(null)|None', '16|OUT_OF_MEMORY|node1|OutOfMemory', '17|NODE_FAIL|node2|NodeDown', '18|PREEMPTED|node1|None',
      '19|COMPLETING|node1|None', '20|SPECIAL_EXIT||x|y', '21|WEIRD|None assigned|None', ''].join('\n')
  );
  assert.deepEqual([...jobs.values()].map(j => [j.id, j.state, j.raw, j.reason, j.nodes]), [
    ['12', 'pending', 'PENDING', 'Dependency', null],
    ['13', 'running', 'RUNNING', null, 'node1'],
    ['14_1', 'completed', 'COMPLETED', null, 'node[1-2]'],
    ['14.0', 'timeout', 'TIMEOUT', null, 'node1'],
    ['15', 'cancelled', 'CANCELLED', null, null],
    ['16', 'out_of_memory', 'OUT_OF_MEMORY', 'OutOfMemory', 'node1'],
    ['17', 'node_fail', 'NODE_FAIL', 'NodeDown', 'node2'],
    ['18', 'failed', 'PREEMPTED', null, 'node1'],
    ['19', 'running', 'COMPLETING', null, 'node1'],
    ['20', 'pending', 'SPECIAL_EXIT', 'x|y', null],
    ['21', 'unknown', 'WEIRD', null, null]
  ]);
  assert.equal(parseSqueue('').size, 0);
  for (const bad of ['garbage', '12|PENDING']) {
    assert.throws(() => parseSqueue(bad), /squeue printed .*; expected "<jobid>\|<state>\|<nodes>\|<reason>"/);
  }
});

test('SLURM state words in every form', () => {
  const cases: [string, JobState][] = [
    ['CANCELLED by 0', 'cancelled'], ['CANCELLED+', 'cancelled'], ['CD', 'completed'], ['PD', 'pending'], ['CONFIGURING', 'pending'],
    ['REQUEUED', 'pending'], ['RESV_DEL_HOLD', 'pending'], ['SUSPENDED', 'pending'], ['FAILED', 'failed'], ['BOOT_FAIL', 'failed'],
    ['DEADLINE', 'failed'], ['TO', 'timeout'], ['OOM', 'out_of_memory'], ['', 'unknown']
  ];
  for (const [raw, state] of cases) assert.equal(slurmJobState(raw), state, raw);
});

test('scontrol --oneliner gives state, reason, exit code and file paths', () => {
  const line =
    'JobId=12 JobName=add UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=1 Nice=0 Account=(null) QOS=(null) ' +
    'JobState=TIMEOUT Reason=TimeLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 ' +
    'RunTime=00:01:05 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2025-01-01T10:00:00 NodeList=c1 BatchHost=c1 ' +
    'NumNodes=1 NumCPUs=2 NumTasks=2 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=2,node=1,billing=2 ' +
    'Command=/tmp/c/add_ab/job.sh --flag value WorkDir=/tmp/c/add_ab StdErr=/tmp/c/add_ab/slurm-12.err StdIn=/dev/null ' +
    'StdOut=/tmp/c/add_ab/slurm-12.out Power=\n';
  assert.deepEqual(parseScontrolJob(line), {
    id: '12',
    state: 'timeout',
    raw: 'TIMEOUT',
    reason: 'TimeLimit',
    exitCode: '0:15',
    stdErr: '/tmp/c/add_ab/slurm-12.err',
    stdOut: '/tmp/c/add_ab/slurm-12.out',
    workDir: '/tmp/c/add_ab'
  });
  const running = parseScontrolJob('JobId=13 JobName=x JobState=RUNNING Reason=None ExitCode=0:0 WorkDir=/my dir/run StdErr= StdOut=(null)');
  assert.deepEqual(running, {
    id: '13', state: 'running', raw: 'RUNNING', reason: null, exitCode: '0:0', stdErr: null, stdOut: null, workDir: '/my dir/run'
  });
  assert.throws(() => parseScontrolJob('slurm_load_jobs error: Invalid job id specified'), /scontrol printed .*; expected "JobId=<id> \.\.\. JobState=<state>/);
});

test('slurmTime is minutes:seconds, rounded up, at least a second', () => {
  const cases: [number, string][] = [[65, '1:05'], [5, '0:05'], [3600, '60:00'], [59.2, '1:00'], [0, '0:01'], [0.1, '0:01'], [86461, '1441:01']];
  for (const [seconds, time] of cases) assert.equal(slurmTime(seconds), time, String(seconds));
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => slurmTime(bad), /run_time_max must be a non-negative number of seconds/);
});

test('flux command lines', () => {
  assert.deepEqual(fluxBatchCommand('/tmp/c/add/job.sh'), ['flux', 'batch', '/tmp/c/add/job.sh']);
  assert.deepEqual(fluxJobsCommand(['ƒ2', '58']), ['flux', 'jobs', '-n', '--format={id.dec}|{state}|{result}|{nodelist}|{inactive_reason}', 'ƒ2', '58']);
  assert.deepEqual(fluxCancelCommand(['ƒ2', 'ƒ3']), ['flux', 'cancel', 'ƒ2', 'ƒ3']);
});

test('flux batch prints one job id', () => {
  assert.equal(parseFluxSubmit('ƒ2Ux5bJa5\n'), 'ƒ2Ux5bJa5');
  assert.equal(parseFluxSubmit('f2Ux5bJa5'), 'f2Ux5bJa5');
  assert.equal(parseFluxSubmit('123456\n'), '123456');
  for (const bad of ['', '\n', 'ƒ2 ƒ3']) assert.throws(() => parseFluxSubmit(bad), /flux batch printed .*; expected one job id/);
});

test('flux jobs lines become job states: the state while active, the result once inactive, with why and where', () => {
  const jobs = parseFluxJobs(
    ['1|DEPEND||', '2|PRIORITY||', '3|SCHED||', '4|RUN||node[1-2]|', '5|CLEANUP||vm|', '6|INACTIVE|COMPLETED|vm|Exit 0',
      '7|INACTIVE|FAILED|vm,vm|Exit 3', '8|INACTIVE|CANCELED|vm|Canceled: by a|b', '9|INACTIVE|TIMEOUT|vm|Timeout',
      '10|INACTIVE|||', '11|ODD||', ''].join('\n')
  );
  assert.deepEqual([...jobs.values()].map(j => [j.id, j.state, j.raw, j.reason, j.nodes]), [
    ['1', 'pending', 'DEPEND', null, null],
    ['2', 'pending', 'PRIORITY', null, null],
    ['3', 'pending', 'SCHED', null, null],
    ['4', 'running', 'RUN', null, 'node[1-2]'],
    ['5', 'running', 'CLEANUP', null, 'vm'],
    ['6', 'completed', 'COMPLETED', 'Exit 0', 'vm'],
    ['7', 'failed', 'FAILED', 'Exit 3', 'vm,vm'],
    // The reason is free text and comes last: a '|' in it stays.
    ['8', 'cancelled', 'CANCELED', 'Canceled: by a|b', 'vm'],
    ['9', 'timeout', 'TIMEOUT', 'Timeout', 'vm'],
    ['10', 'unknown', 'INACTIVE', null, null],
    ['11', 'unknown', 'ODD', null, null]
  ]);
  // F58 ids (what `{id}` prints) are not what the jobs are keyed by: refused, not silently never matched.
  for (const bad of ['garbage', 'ƒ2Ux5bJa5|RUN||vm|']) {
    assert.throws(() => parseFluxJobs(bad), /flux jobs printed .*; expected "<decimal id>\|<state>/);
  }
});

test('flux job ids in F58 (either prefix) or decimal become decimal', () => {
  // Vectors from flux-core's test of its FLUID encoder.
  const vectors: [string, string][] = [
    ['ƒ1', '0'], ['f111', '0'], ['ƒ2', '1'], ['ƒz', '57'], ['ƒ21', '58'], ['ƒNH', '1234'], ['fZZ', '1888'], ['ƒ211', '3364'],
    ['ƒLUv', '65535'], ['ƒ7YXq9G', '4294967295'], ['fxyzzy', '633528662'], ['ƒuZZybuNNy', '6731191091817518'],
    ['ƒjpXCZedGfVQ', '18446744073709551615'], ['1234', '1234'], ['007', '7'], [' ƒ2\n', '1']
  ];
  for (const [id, decimal] of vectors) assert.equal(fluxIdToDecimal(id), decimal, id);
  for (const bad of ['', 'ƒ', 'ƒ0', 'fOl', 'xyz', '0x10', 'ƒjpXCZedGfVR', '18446744073709551616']) {
    assert.throws(() => fluxIdToDecimal(bad), /is not a flux job id; expected a decimal number or F58/, bad);
  }
});

test('flux submit: the default job script\'s settings as options, the worker as the job\'s tasks', () => {
  const job = {
    jobName: 'add',
    cwd: '/c/add_1',
    output: '/c/add_1/job.out',
    error: '/c/add_1/job.err',
    cores: 1,
    threadsPerCore: 1,
    gpusPerCore: 0,
    numNodes: null,
    exclusive: false,
    runTimeMax: null,
    after: [],
    priority: null,
    pmiMode: null,
    env: {},
    command: ['/usr/bin/python3', '-m', 'executorlab.cache_worker', '/c/add_1_i.h5']
  };
  assert.deepEqual(fluxSubmitCommand(job), [
    'flux', 'submit', '--job-name=add', '--cwd=/c/add_1', '--output=/c/add_1/job.out', '--error=/c/add_1/job.err', '-n', '1', '-c', '1',
    '/usr/bin/python3', '-m', 'executorlab.cache_worker', '/c/add_1_i.h5'
  ]);
  const every = { ...job, cores: 4, threadsPerCore: 2, gpusPerCore: 1, numNodes: 2, exclusive: true, runTimeMax: 90, after: ['12', '13'], priority: 0, pmiMode: 'pmix', env: { PYTHONPATH: '/a b:/c' } };
  assert.deepEqual(fluxSubmitCommand(every).slice(6, -4), [
    '-n', '4', '-c', '2', '-N', '2', '--exclusive', '-g', '1', '-t', '90s', '--dependency=afterok:12', '--dependency=afterok:13',
    '--urgency=0', '-o', 'pmi=pmix', '--env=PYTHONPATH=/a b:/c'
  ]);
});
