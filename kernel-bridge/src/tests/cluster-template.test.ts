// Submission templates render as Jinja2 would; pysqa config directories are read or refused clearly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FLUX_TEMPLATE, DEFAULT_SLURM_TEMPLATE, TemplateError, renderTemplate } from '../cluster/template.js';
import { ConfigError, readPysqaConfig } from '../cluster/pysqa-config.js';

// pysqa's own defaults (pysqa/wrapper/slurm.py and flux.py); expected strings below come from jinja2 3.1.
const PYSQA_SLURM = `#!/bin/bash
#SBATCH --output=time.out
#SBATCH --job-name={{job_name}}
#SBATCH --chdir={{working_directory}}
#SBATCH --get-user-env=L
#SBATCH --partition={{partition}}
{%- if run_time_max %}
#SBATCH --time={{ [1, run_time_max // 60]|max }}
{%- endif %}
{%- if dependency_list %}
#SBATCH --dependency=afterok:{{ dependency_list | join(',') }}
{%- endif %}
{%- if memory_max %}
#SBATCH --mem={{memory_max}}G
{%- endif %}
#SBATCH --cpus-per-task={{cores}}

{{command}}
`;

const PYSQA_FLUX = `#!/bin/bash
# flux: --job-name={{job_name}}
# flux: --env=CORES={{cores}}
# flux: --output=time.out
# flux: --error=error.out
# flux: -n {{cores}}
{%- if run_time_max %}
# flux: -t {{ [1, run_time_max // 60]|max }}
{%- endif %}
{%- if dependency_list %}
{%- for jobid in dependency_list %}
# flux: --dependency=afterok:{{jobid}}
{%- endfor %}
{%- endif %}

{{command}}
`;

const job = {
  job_name: 'add',
  working_directory: '/scratch/c/add_ab',
  cores: 2,
  threads_per_core: 1,
  output_file: '/scratch/c/add_ab/job.out',
  error_file: '/scratch/c/add_ab/job.err',
  command: 'python -m executorlab.worker --task /scratch/c/add_ab',
  dependency: []
};
const everything = { ...job, run_time_max: 65, run_time_slurm: '1:05', memory_max: 4, partition: 'short', dependency: ['11', '12'], priority: 5 };

test('our SLURM template writes optional lines only when their value is set', () => {
  const head = [
    '#!/bin/bash',
    '#SBATCH --job-name=add',
    '#SBATCH --chdir=/scratch/c/add_ab',
    '#SBATCH --output=/scratch/c/add_ab/job.out',
    '#SBATCH --error=/scratch/c/add_ab/job.err',
    '#SBATCH --ntasks=2',
    '#SBATCH --cpus-per-task=1'
  ];
  const tail = ['', 'python -m executorlab.worker --task /scratch/c/add_ab'];
  assert.equal(renderTemplate(DEFAULT_SLURM_TEMPLATE, job), [...head, ...tail].join('\n'));
  assert.equal(
    renderTemplate(DEFAULT_SLURM_TEMPLATE, everything),
    [...head, '#SBATCH --partition=short', '#SBATCH --time=1:05', '#SBATCH --dependency=afterok:11:12', '#SBATCH --mem=4G', ...tail].join('\n')
  );
});

test('our flux template writes one dependency line per job and the urgency when a priority is given, even 0', () => {
  const head = [
    '#!/bin/bash',
    '# flux: --job-name=add',
    '# flux: --cwd=/scratch/c/add_ab',
    '# flux: --output=/scratch/c/add_ab/job.out',
    '# flux: --error=/scratch/c/add_ab/job.err',
    '# flux: -n 2',
    '# flux: -c 1'
  ];
  const tail = ['', 'python -m executorlab.worker --task /scratch/c/add_ab'];
  assert.equal(renderTemplate(DEFAULT_FLUX_TEMPLATE, job), [...head, ...tail].join('\n'));
  assert.equal(
    renderTemplate(DEFAULT_FLUX_TEMPLATE, everything),
    [...head, '# flux: -t 65s', '# flux: --dependency=afterok:11', '# flux: --dependency=afterok:12', '# flux: --urgency=5', ...tail].join('\n')
  );
  assert.equal(renderTemplate(DEFAULT_FLUX_TEMPLATE, { ...job, priority: 0 }), [...head, '# flux: --urgency=0', ...tail].join('\n'));
  assert.equal(renderTemplate(DEFAULT_FLUX_TEMPLATE, { ...job, priority: null }), [...head, ...tail].join('\n'));
});

test("pysqa's SLURM template renders exactly as jinja2 renders it", () => {
  const base = { job_name: 'pysqa', working_directory: '/home/u/calc', cores: 4, command: 'python run.py' };
  assert.equal(
    renderTemplate(PYSQA_SLURM, base),
    '#!/bin/bash\n#SBATCH --output=time.out\n#SBATCH --job-name=pysqa\n#SBATCH --chdir=/home/u/calc\n#SBATCH --get-user-env=L\n' +
      '#SBATCH --partition=\n#SBATCH --cpus-per-task=4\n\npython run.py'
  );
  assert.equal(
    renderTemplate(PYSQA_SLURM, { ...base, partition: 's', run_time_max: 7200, memory_max: 8, dependency_list: ['7', '8'] }),
    '#!/bin/bash\n#SBATCH --output=time.out\n#SBATCH --job-name=pysqa\n#SBATCH --chdir=/home/u/calc\n#SBATCH --get-user-env=L\n' +
      '#SBATCH --partition=s\n#SBATCH --time=120\n#SBATCH --dependency=afterok:7,8\n#SBATCH --mem=8G\n#SBATCH --cpus-per-task=4\n\npython run.py'
  );
  // [1, 30 // 60]|max: at least one minute
  assert.match(renderTemplate(PYSQA_SLURM, { ...base, run_time_max: 30, dependency_list: [] }), /\n#SBATCH --time=1\n#SBATCH --cpus/);
});

test("pysqa's flux template renders exactly as jinja2 renders it", () => {
  const base = { job_name: 'pysqa', working_directory: '/home/u/calc', cores: 4, command: 'python run.py' };
  assert.equal(
    renderTemplate(PYSQA_FLUX, { ...base, run_time_max: 7200, dependency_list: ['7', '8'] }),
    '#!/bin/bash\n# flux: --job-name=pysqa\n# flux: --env=CORES=4\n# flux: --output=time.out\n# flux: --error=error.out\n' +
      '# flux: -n 4\n# flux: -t 120\n# flux: --dependency=afterok:7\n# flux: --dependency=afterok:8\n\npython run.py'
  );
  assert.equal(
    renderTemplate(PYSQA_FLUX, { ...base, run_time_max: 30, dependency_list: [] }),
    '#!/bin/bash\n# flux: --job-name=pysqa\n# flux: --env=CORES=4\n# flux: --output=time.out\n# flux: --error=error.out\n' +
      '# flux: -n 4\n# flux: -t 1\n\npython run.py'
  );
});

test('Jinja defaults: no trim_blocks, final newline dropped, undefined renders empty, floats keep ".0"', () => {
  assert.equal(renderTemplate('{% if x %}\n  a\n{% endif %}\n  b {{ y -}}  \n c\n', { x: 1, y: 2 }), '\n  a\n\n  b 2c');
  assert.equal(renderTemplate('[{{ missing }}]{% if missing %}no{% endif %}', {}), '[]');
  assert.equal(renderTemplate('{{ 7.5 // 2 }} {{ 7 / 2 }} {{ [3, 1]|min }} {{ ["b", "A"]|max }} [{{ []|max }}]', {}), '3.0 3.5 1 b []');
});

test('a syntax error names the line and what is wrong', () => {
  const fails = (template: string, message: RegExp) => assert.throws(() => renderTemplate(template, {}), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.match(e.message, message);
    return true;
  });
  fails('#!/bin/bash\n{%- if run_time_max %}\n#SBATCH --time=1\n', /line 2: "\{% if %\}" is never closed by "\{% endif %\}"/);
  fails('a\n{% if x %}b{% endfor %}', /line 2: "\{% endfor %\}" closes "\{% if %\}" from line 2; expected "\{% endif %\}"/);
  fails('a\nb\n{{ cores | }}', /line 3: cannot parse "\{\{ cores \| \}\}"/);
  fails('a\n{{ cores ', /line 2: "\{\{" is never closed by "\}\}"/);
  fails('{% include "x" %}', /unknown statement "include"; allowed: .*if.*for/);
  assert.throws(() => renderTemplate('{{ x | nosuchfilter }}', { x: [1] }), /cannot render submission template: .*nosuchfilter/);
});

async function configDirectory(files: Record<string, string>): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'pysqa-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(directory, name), text);
  return directory;
}

const QUEUE_YAML = `queue_type: SLURM
queue_primary: slurm
queues:
  slurm: {cores_max: 100, cores_min: 10, run_time_max: 259200, script: slurm.sh}
  short: {cores_max: 4, script: short.sh}
`;

test('a pysqa config gives the primary queue or the one asked for, with its template', async t => {
  const directory = await configDirectory({ 'queue.yaml': QUEUE_YAML, 'slurm.sh': PYSQA_SLURM, 'short.sh': '#!/bin/bash\n{{command}}\n' });
  t.after(() => rm(directory, { recursive: true }));
  assert.deepEqual(await readPysqaConfig(directory), {
    queueType: 'SLURM', queue: 'slurm', template: PYSQA_SLURM, coresMax: 100, coresMin: 10, runTimeMax: 259200
  });
  assert.deepEqual(await readPysqaConfig(directory, 'short'), {
    queueType: 'SLURM', queue: 'short', template: '#!/bin/bash\n{{command}}\n', coresMax: 4, coresMin: null, runTimeMax: null
  });
});

test('a broken pysqa config says what is wrong', async t => {
  const refuses = async (files: Record<string, string> | null, message: RegExp, queue?: string) => {
    const directory = files ? await configDirectory(files) : join(tmpdir(), 'pysqa-does-not-exist');
    t.after(() => rm(directory, { recursive: true, force: true }));
    await assert.rejects(readPysqaConfig(directory, queue), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, message);
      return true;
    });
  };
  await refuses(null, /pysqa-does-not-exist does not exist; it must be a directory holding queue\.yaml/);
  await refuses({}, /queue\.yaml cannot be read/);
  await refuses({ 'queue.yaml': 'queues: [1\nb: 2' }, /queue\.yaml is not valid YAML: .*line 2/);
  await refuses({ 'queue.yaml': QUEUE_YAML, 'slurm.sh': '' }, /queue "gpu" is not in .*queue\.yaml; known queues: slurm, short/, 'gpu');
  await refuses({ 'queue.yaml': QUEUE_YAML }, /the script of queue "slurm", .*slurm\.sh, cannot be read/);
  await refuses({ 'queue.yaml': 'queue_type: FLUX\nqueues:\n  flux: {script: flux.sh}\n' }, /no queue given .* no queue_primary; name one of: flux/);
  await refuses({ 'queue.yaml': 'queue_type: FLUX\nqueue_primary: flux\nqueues:\n  flux: {cores_max: 2}\n' }, /queue "flux" .* needs script/);
  await refuses({ 'queue.yaml': 'queue_primary: flux\nqueues:\n  flux: {script: f.sh}\n' }, /needs queue_type/);
  await refuses(
    { 'queue.yaml': 'queue_type: SLURM\nqueue_primary: s\nqueues:\n  s: {script: s.sh, cores_max: many}\n', 's.sh': '' },
    /cores_max of queue "s" .* must be a non-negative number, got "many"/
  );
  const directory = await configDirectory({ plain: '' });
  t.after(() => rm(directory, { recursive: true }));
  await assert.rejects(readPysqaConfig(join(directory, 'plain')), /plain is not a directory/);
});
