// Jinja rendering of job submission templates (executorlib's `submission_template`, pysqa's queue scripts).
// Engine: @huggingface/jinja — typed, dependency-free and released monthly; nunjucks (the alternative) has had
// no release since 2023, keeps the trailing newline Jinja drops, and has no `True`/`None`.
import * as jinja from '@huggingface/jinja';

export class TemplateError extends Error {}

// The package's .d.ts files import each other without extensions, which NodeNext cannot follow; the part used
// here is typed by hand.
interface Value { type: string; value: unknown }
interface Node { type: string }
interface Environment { set(name: string, value: unknown): Value }
interface Interpreter { evaluate(node: Node | undefined, environment: Environment): Value; run(program: Node): Value }
interface FilterNode extends Node {
  operand: Node;
  filter: { type: string; value?: unknown; callee?: { type: string; value?: unknown } };
}
const engine = jinja as unknown as {
  Interpreter: new (environment: Environment) => Interpreter;
  Environment: new () => Environment;
  tokenize(source: string, options: { trim_blocks?: boolean; lstrip_blocks?: boolean }): unknown[];
  parse(tokens: unknown[]): Node;
};

const EXTRA_FILTERS = new Set(['max', 'min']);

/** Adds the `max`/`min` filters the engine lacks; it has no API for user filters, so they are intercepted here. */
class SubmissionInterpreter extends engine.Interpreter {
  override evaluate(node: Node | undefined, environment: Environment): Value {
    if (node?.type === 'FilterExpression') {
      const { operand, filter } = node as FilterNode;
      const name = filter.type === 'Identifier' ? filter.value : filter.callee?.value;
      if (typeof name === 'string' && EXTRA_FILTERS.has(name)) {
        if (filter.type !== 'Identifier') throw new TemplateError(`the ${name} filter takes no arguments here; write "|${name}"`);
        return this.extreme(name, this.evaluate(operand, environment), environment);
      }
    }
    return super.evaluate(node, environment);
  }

  private extreme(name: string, operand: Value, environment: Environment): Value {
    if (operand.type !== 'ArrayValue' && operand.type !== 'TupleValue') {
      throw new TemplateError(`the ${name} filter needs a list, got ${operand.type}`);
    }
    const items = operand.value as Value[];
    // Jinja gives Undefined (renders empty) for an empty list.
    if (items.length === 0) return this.evaluate(undefined, environment);
    const key = (v: Value): number | string => {
      if (typeof v.value === 'number') return v.value;
      if (typeof v.value === 'string') return v.value.toLowerCase(); // Jinja compares case-insensitively
      throw new TemplateError(`the ${name} filter compares numbers or strings, got ${v.type}`);
    };
    return items.reduce((best, v) => {
      const [a, b] = [key(v), key(best)];
      if (typeof a !== typeof b) throw new TemplateError(`the ${name} filter cannot compare numbers with strings`);
      return (name === 'max' ? a > b : a < b) ? v : best;
    });
  }
}

const GLOBALS: Record<string, unknown> = { true: true, false: false, none: null, True: true, False: false, None: null };

/**
 * Renders like `jinja2.Template(template).render(**variables)` with Jinja's defaults (no trim_blocks, no
 * lstrip_blocks, the final newline dropped). Undefined and null variables render empty and are false in `if`.
 * Booleans print as true/false, where Jinja prints True/False.
 */
export function renderTemplate(template: string, variables: Record<string, unknown>): string {
  let program: Node;
  try {
    program = engine.parse(engine.tokenize(template, {}));
  } catch (error) {
    throw new TemplateError(`invalid submission template: ${locateSyntaxError(template) ?? messageOf(error)}`);
  }
  const environment = new engine.Environment();
  try {
    for (const [name, value] of Object.entries(GLOBALS)) environment.set(name, value);
    for (const [name, value] of Object.entries(variables)) {
      if (value !== undefined && value !== null) environment.set(name, value);
    }
    return String(new SubmissionInterpreter(environment).run(program).value);
  } catch (error) {
    throw new TemplateError(`cannot render submission template: ${messageOf(error)}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const CLOSERS: Record<string, string> = { '{{': '}}', '{%': '%}', '{#': '#}' };
const BLOCKS = new Set(['if', 'for', 'macro', 'call', 'filter']);
const STATEMENTS = new Set(['', 'elif', 'else', 'set', 'break', 'continue', 'generation', 'endgeneration', ...BLOCKS]);

/**
 * The engine's parser reports no positions, so on a parse failure the tags are checked one by one (unclosed
 * tags, unbalanced blocks, each tag parsed alone) to name the line. Null when no single tag is to blame.
 */
function locateSyntaxError(template: string): string | null {
  const lineOf = (index: number) => template.slice(0, index).split('\n').length;
  const open: { keyword: string; line: number }[] = [];
  const opener = /\{\{|\{%|\{#/g;
  for (let match = opener.exec(template); match; match = opener.exec(template)) {
    const line = lineOf(match.index);
    const closer = CLOSERS[match[0]];
    const end = template.indexOf(closer, match.index + 2);
    if (end < 0) return `line ${line}: "${match[0]}" is never closed by "${closer}"`;
    opener.lastIndex = end + 2;
    if (match[0] === '{#') continue;
    const inner = template.slice(match.index + 2, end).replace(/^[-+]/, '').replace(/[-+]$/, '').trim();
    const tag = `${match[0]} ${inner} ${closer}`;
    const keyword = match[0] === '{{' ? '' : inner.split(/\s+/, 1)[0];
    const block = BLOCKS.has(keyword) || (keyword === 'set' && !inner.includes('=')) ? keyword : null;
    if (keyword.startsWith('end') && keyword !== 'endgeneration') {
      const top = open.pop();
      if (!top) return `line ${line}: "${tag}" has no opening "{% ${keyword.slice(3)} %}"`;
      if (`end${top.keyword}` !== keyword) {
        return `line ${line}: "${tag}" closes "{% ${top.keyword} %}" from line ${top.line}; expected "{% end${top.keyword} %}"`;
      }
      continue;
    }
    if (!STATEMENTS.has(keyword)) {
      return `line ${line}: unknown statement "${keyword}"; allowed: ${[...STATEMENTS].filter(Boolean).join(', ')} and the end tags`;
    }
    if ((keyword === 'elif' || keyword === 'else') && !['if', ...(keyword === 'else' ? ['for'] : [])].includes(open.at(-1)?.keyword ?? '')) {
      return `line ${line}: "${tag}" outside an "{% if %}" block`;
    }
    if (block) open.push({ keyword: block, line });
    const probe = block
      ? `${tag}{% end${block} %}`
      : keyword === 'elif' || keyword === 'else'
        ? `{% if true %}${tag}{% endif %}`
        : keyword === 'break' || keyword === 'continue'
          ? `{% for x in y %}${tag}{% endfor %}`
          : tag;
    const failure = parseFailure(probe);
    if (failure) return `line ${line}: cannot parse "${tag}" (${failure})`;
  }
  const unclosed = open.pop();
  return unclosed ? `line ${unclosed.line}: "{% ${unclosed.keyword} %}" is never closed by "{% end${unclosed.keyword} %}"` : null;
}

/** Why `source` does not parse, or null when it does. */
function parseFailure(source: string): string | null {
  try {
    engine.parse(engine.tokenize(source, {}));
    return null;
  } catch (error) {
    return messageOf(error);
  }
}

/** Our SLURM job script; run_time_slurm is `slurmTime(run_time_max)`, so seconds are kept. */
export const DEFAULT_SLURM_TEMPLATE = `#!/bin/bash
#SBATCH --job-name={{job_name}}
#SBATCH --chdir={{working_directory}}
#SBATCH --output={{output_file}}
#SBATCH --error={{error_file}}
#SBATCH --ntasks={{cores}}
#SBATCH --cpus-per-task={{threads_per_core}}
{%- if num_nodes %}
#SBATCH --nodes={{num_nodes}}
{%- endif %}
{%- if exclusive %}
#SBATCH --exclusive
{%- endif %}
{%- if gpus_per_core %}
#SBATCH --gpus-per-task={{gpus_per_core}}
{%- endif %}
{%- if partition %}
#SBATCH --partition={{partition}}
{%- endif %}
{%- if run_time_slurm %}
#SBATCH --time={{run_time_slurm}}
{%- endif %}
{%- if dependency %}
#SBATCH --dependency=afterok:{{ dependency | join(':') }}
{%- endif %}
{%- if memory_max %}
#SBATCH --mem={{memory_max}}G
{%- endif %}

{{command}}
`;

/** Our flux job script for `flux batch`, which reads the `# flux:` lines as options (they must stay together). */
export const DEFAULT_FLUX_TEMPLATE = `#!/bin/bash
# flux: --job-name={{job_name}}
# flux: --cwd={{working_directory}}
# flux: --output={{output_file}}
# flux: --error={{error_file}}
# flux: -n {{cores}}
# flux: -c {{threads_per_core}}
{%- if num_nodes %}
# flux: -N {{num_nodes}}
{%- endif %}
{%- if exclusive %}
# flux: --exclusive
{%- endif %}
{%- if gpus_per_core %}
# flux: -g {{gpus_per_core}}
{%- endif %}
{%- if run_time_max %}
# flux: -t {{run_time_max}}s
{%- endif %}
{%- for jobid in dependency %}
# flux: --dependency=afterok:{{jobid}}
{%- endfor %}
{%- if priority is defined and priority is not none %}
# flux: --urgency={{priority}}
{%- endif %}

{{command}}
`;
