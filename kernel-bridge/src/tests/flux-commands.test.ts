// flux run command lines for FluxJobExecutor workers, pinned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fluxRunCommand, workerArgs } from '../backends/commands.js';
import { FluxLauncher } from '../backends/flux.js';
import { LAUNCHER_TIME_GRACE_S, launcherTimeLimit } from '../backends/launcher.js';
import type { HostProbe } from '../resources/host.js';
import { mergeResources } from '../scheduler/task.js';

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
  pmiMode: null,
  runTimeMax: null,
  priority: null,
  nesting: false
};

test('a flux run with only the defaults asks for tasks and cores per task', () => {
  assert.deepEqual(fluxRunCommand(base), ['flux', 'run', '-n', '2', '-c', '1', ...workerArgs(base)]);
});

test('every resource becomes its flux run flag, in a fixed order before the worker', () => {
  const options = {
    ...base,
    cores: 4,
    threadsPerCore: 2,
    gpusPerCore: 1,
    cwd: '/scratch/run',
    numNodes: 2,
    exclusive: true,
    pmiMode: 'pmix',
    runTimeMax: 61,
    priority: 20,
    workerIndex: 3
  };
  assert.deepEqual(fluxRunCommand(options), [
    'flux', 'run', '-n', '4', '-c', '2', '-g', '1', '-N', '2', '--exclusive', '-o', 'pmi=pmix', '--cwd', '/scratch/run',
    '-t', '61s', '--urgency', '20', ...workerArgs(options)
  ]);
});

test('urgency 0 (held) is still passed; nesting starts a flux instance around the worker', () => {
  assert.deepEqual(fluxRunCommand({ ...base, priority: 0 }).slice(6, 8), ['--urgency', '0']);
  assert.deepEqual(fluxRunCommand({ ...base, nesting: true }), ['flux', 'run', '-n', '2', '-c', '1', 'flux', 'start', ...workerArgs(base)]);
});

test('oversubscription has no flux flag', () => {
  assert.deepEqual(fluxRunCommand({ ...base, openmpiOversubscribe: true }), fluxRunCommand(base));
});

test('run_time_max: flux run gets a minute more than the bridge, which enforces the limit itself (TimeoutError)', () => {
  const launcher = new FluxLauncher({
    python: '/usr/bin/python3',
    pythonpath: [],
    bridgeFile: '/run/b-worker.json',
    openmpiOversubscribe: false,
    executorName: 'FluxJobExecutor',
    host: {} as HostProbe,
    pmiMode: null,
    nesting: false,
    schedulerEnv: { FLUX_URI: 'local:///run/flux/local' }
  });
  const command = launcher.command({ resources: mergeResources({}, { run_time_max: 2 }), workerId: 'w1' });
  assert.deepEqual(command.slice(command.indexOf('-t'), command.indexOf('-t') + 2), ['-t', `${2 + LAUNCHER_TIME_GRACE_S}s`]);
  assert.ok(!launcher.command({ resources: mergeResources({}, {}), workerId: 'w1' }).includes('-t'));
  assert.equal(launcherTimeLimit(null), null);
});
