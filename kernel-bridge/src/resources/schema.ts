// The resource_dict schema: schema/resource-dict.schema.json is the single source of truth for the keys,
// their types and ranges. Imported as a JSON module so esbuild inlines it into the bundled bridge and the
// compiled lib/ reads it from the checkout; nothing looks for the file at run time.
import raw from '../../../schema/resource-dict.schema.json' with { type: 'json' };

export type JsonType = 'integer' | 'string' | 'boolean' | 'array' | 'null';

export interface PropertySchema {
  description?: string;
  type: JsonType | JsonType[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  items?: PropertySchema;
}

export interface ObjectSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type: 'object';
  additionalProperties: false;
  properties: Record<string, PropertySchema>;
}

export const RESOURCE_DICT_SCHEMA = raw as ObjectSchema;

/** The keys executorlib accepts in a resource_dict, in the schema's order. */
export const RESOURCE_KEYS: readonly string[] = Object.keys(RESOURCE_DICT_SCHEMA.properties);

/** A resource_dict that passed the schema; null means not set, like a missing key. */
export interface ResourceDict {
  cores?: number | null;
  threads_per_core?: number | null;
  gpus_per_core?: number | null;
  cwd?: string | null;
  cache_key?: string | null;
  cache_directory?: string | null;
  num_nodes?: number | null;
  exclusive?: boolean | null;
  error_log_file?: string | null;
  run_time_max?: number | null;
  priority?: number | null;
  slurm_cmd_args?: string[] | null;
  submission_template?: string | null;
  memory_max?: number | null;
  partition?: string | null;
  openmpi_oversubscribe?: boolean | null;
}
