// Checks a resource_dict against the schema. The schema is flat (one object of scalar or list-of-string
// properties), so a small interpreter of the keywords it uses is enough, and it can say what was wrong
// in the words a Python user reads: the key, the value given, and what is allowed.
import { RESOURCE_DICT_SCHEMA, RESOURCE_KEYS, type JsonType, type PropertySchema, type ResourceDict } from './schema.js';

/** The schema keywords this validator understands; a test keeps the schema within them. */
export const SUPPORTED_KEYWORDS = {
  object: ['$schema', '$id', 'title', 'description', 'type', 'additionalProperties', 'properties'],
  property: ['description', 'type', 'minimum', 'maximum', 'minLength', 'maxLength', 'maxItems', 'items']
} as const;

const MAX_REPR = 80;

/** A value as Python prints it, since the reader wrote it in Python (nesting beyond a few levels elided). */
export function pyRepr(value: unknown, depth = 0): string {
  let text: string;
  if (value === null || value === undefined) text = 'None';
  else if (value === true) text = 'True';
  else if (value === false) text = 'False';
  else if (typeof value === 'string') text = `'${value.slice(0, MAX_REPR).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  else if (typeof value === 'object' && depth > 2) text = '…';
  else if (Array.isArray(value)) text = `[${value.slice(0, MAX_REPR).map(v => pyRepr(v, depth + 1)).join(', ')}]`;
  else if (typeof value === 'object') {
    text = `{${Object.entries(value as Record<string, unknown>)
      .slice(0, MAX_REPR)
      .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v, depth + 1)}`)
      .join(', ')}}`;
  } else text = String(value);
  return text.length > MAX_REPR ? `${text.slice(0, MAX_REPR - 1)}…` : text;
}

function typeOf(value: unknown): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a float';
  if (typeof value === 'boolean') return 'a bool';
  return 'a dict';
}

function matchesType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'null':
      return value === null;
  }
}

function describeOne(type: JsonType, s: PropertySchema): string {
  switch (type) {
    case 'integer': {
      const { minimum: lo, maximum: hi } = s;
      if (lo !== undefined && hi !== undefined) return `an integer from ${lo} to ${hi}`;
      if (lo !== undefined) return `an integer ≥ ${lo}`;
      if (hi !== undefined) return `an integer ≤ ${hi}`;
      return 'an integer';
    }
    case 'string':
      return `${s.minLength ? 'a non-empty string' : 'a string'}${s.maxLength !== undefined ? ` of at most ${s.maxLength} characters` : ''}`;
    case 'boolean':
      return 'True';
    case 'array': {
      const items = s.items ? `${[s.items.type].flat().filter(t => t !== 'null').join(' or ')}s` : 'values';
      return `a list of ${items}${s.maxItems !== undefined ? ` (at most ${s.maxItems})` : ''}`;
    }
    case 'null':
      return 'None';
  }
}

/** What a property allows, e.g. "an integer ≥ 1 or None". */
export function describe(s: PropertySchema): string {
  const types = Array.isArray(s.type) ? s.type : [s.type];
  const named = types.filter(t => t !== 'null').map(t => describeOne(t, s));
  if (types.includes('boolean')) named.push('False');
  if (types.includes('null')) named.push('None');
  return named.length > 1 ? `${named.slice(0, -1).join(', ')} or ${named[named.length - 1]}` : named[0];
}

function fits(value: unknown, s: PropertySchema): boolean {
  const types = Array.isArray(s.type) ? s.type : [s.type];
  const type = types.find(t => matchesType(value, t));
  if (type === undefined) return false;
  switch (type) {
    case 'integer':
      return (s.minimum === undefined || (value as number) >= s.minimum) && (s.maximum === undefined || (value as number) <= s.maximum);
    case 'string': {
      const length = (value as string).length;
      return (s.minLength === undefined || length >= s.minLength) && (s.maxLength === undefined || length <= s.maxLength);
    }
    case 'array':
      return s.maxItems === undefined || (value as unknown[]).length <= s.maxItems;
    default:
      return true;
  }
}

function propertyProblems(path: string, value: unknown, s: PropertySchema): string[] {
  if (!fits(value, s)) return [`${path} must be ${describe(s)}, got ${pyRepr(value)}${typeHint(value, s)}`];
  if (Array.isArray(value) && s.items) {
    return value.flatMap((item, i) => propertyProblems(`${path}[${i}]`, item, s.items!));
  }
  return [];
}

/** "(a string)" when the repr alone would not show why the type is wrong, e.g. '2' for an integer. */
function typeHint(value: unknown, s: PropertySchema): string {
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return types.some(t => matchesType(value, t)) ? '' : ` (${typeOf(value)})`;
}

/** Everything wrong with a resource_dict, one sentence each; empty when it is valid. */
export function resourceDictProblems(value: unknown, schema = RESOURCE_DICT_SCHEMA): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [`resource_dict must be a dict, got ${pyRepr(value)} (${typeOf(value)})`];
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const unknown = entries.map(([key]) => key).filter(key => !Object.hasOwn(schema.properties, key));
  const problems: string[] = [];
  if (unknown.length > 0) {
    problems.push(
      `resource_dict: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map(k => pyRepr(k)).join(', ')}; ` +
        `allowed keys: ${Object.keys(schema.properties).join(', ')}`
    );
  }
  for (const [key, item] of entries) {
    if (Object.hasOwn(schema.properties, key)) problems.push(...propertyProblems(`resource_dict['${key}']`, item, schema.properties[key]));
  }
  return problems;
}

/** Why a resource_dict is refused, or null when it is valid. */
export function resourceDictProblem(value: unknown): string | null {
  const problems = resourceDictProblems(value);
  return problems.length === 0 ? null : problems.join('; ');
}

export { RESOURCE_KEYS };
export type { ResourceDict };
