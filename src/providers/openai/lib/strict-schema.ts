/**
 * A JSON Schema (draft-07, e.g. zod 4's `z.toJSONSchema`) made fit for strict Structured Outputs, as
 * openai-node's helpers do for zod 4 schemas: every object gets `additionalProperties: false` and
 * lists all its properties in `required` (a property that was optional must accept `null`), a
 * one-branch `allOf` is inlined, `null` defaults are dropped, singleton `type` arrays become a string.
 * What strict mode cannot express is refused with an `Error` naming the path: an open object, a root
 * that is not an object (or is a union), tuples, an array without `items`, and keywords the API does
 * not support (`allOf` with several branches, `not`, `if`/`then`/`else`, `patternProperties`, …).
 * Reference: https://platform.openai.com/docs/guides/structured-outputs#supported-schemas
 */

type Json = Record<string, unknown>;

const UNSUPPORTED = [
  '$anchor',
  '$dynamicAnchor',
  '$dynamicRef',
  '$recursiveAnchor',
  '$recursiveRef',
  'allOf',
  'contains',
  'contentEncoding',
  'contentMediaType',
  'contentSchema',
  'dependentRequired',
  'dependentSchemas',
  'dependencies',
  'else',
  'if',
  'maxContains',
  'maxProperties',
  'minContains',
  'minProperties',
  'not',
  'patternProperties',
  'prefixItems',
  'propertyNames',
  'then',
  'unevaluatedItems',
  'unevaluatedProperties',
  'uniqueItems',
];
const OBJECT_KEYWORDS = [
  'additionalProperties',
  'dependencies',
  'maxProperties',
  'minProperties',
  'patternProperties',
  'properties',
  'propertyNames',
  'required',
];

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const where = (path: string[]) => path.join('/') || '<root>';

function hasObjectShape(schema: Json): boolean {
  const t = schema.type;
  return (
    t === 'object' ||
    (Array.isArray(t) && t.includes('object')) ||
    (t === undefined && OBJECT_KEYWORDS.some((k) => k in schema))
  );
}

/** The schema `ref` points to (`#/definitions/x`, `#/$defs/x`), or undefined. */
function resolveRef(root: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

/** True when `schema` accepts `null` (conservatively: unknown constructs say no). */
function isNullable(schema: unknown, root: Json, seen: Set<string> = new Set()): boolean {
  if (typeof schema === 'boolean') return schema;
  if (!isObject(schema)) return false;
  if (typeof schema.$ref === 'string') {
    if (seen.has(schema.$ref)) return false;
    return isNullable(resolveRef(root, schema.$ref), root, new Set([...seen, schema.$ref]));
  }
  const t = schema.type;
  if (t !== undefined && t !== 'null' && !(Array.isArray(t) && t.includes('null'))) return false;
  if ('const' in schema && schema.const !== null) return false;
  if (schema.enum !== undefined && !(Array.isArray(schema.enum) && schema.enum.includes(null))) return false;
  if (Array.isArray(schema.allOf) && !schema.allOf.every((s) => isNullable(s, root, seen))) return false;
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => isNullable(s, root, seen))) return false;
  if (Array.isArray(schema.oneOf) && schema.oneOf.filter((s) => isNullable(s, root, seen)).length !== 1)
    return false;
  return !('not' in schema || 'if' in schema || 'then' in schema || 'else' in schema);
}

/**
 * A strict copy of `schema` (the input is not changed).
 * @throws Error naming the path of the first construct strict mode can't express.
 */
export function toStrictJsonSchema(schema: Json): Json {
  const copy = structuredClone(schema);
  if (copy.type !== 'object') {
    throw new Error(
      `Root schema must have type: 'object' but got type: ${copy.type ? `'${String(copy.type)}'` : 'undefined'}`,
    );
  }
  if (copy.anyOf !== undefined) {
    throw new Error(
      'Root schema must not use `anyOf` because strict Structured Outputs requires a root object without a union.',
    );
  }
  return ensureStrict(copy, [], copy);
}

function ensureStrict(schema: unknown, path: string[], root: Json): Json {
  if (typeof schema === 'boolean')
    throw new TypeError(`Expected object schema but got boolean; path=${path.join('/')}`);
  if (!isObject(schema))
    throw new TypeError(`Expected ${JSON.stringify(schema)} to be an object; path=${path.join('/')}`);
  for (const key of Object.keys(schema)) if (schema[key] === undefined) delete schema[key];
  if (Array.isArray(schema.type) && schema.type.length === 1) schema.type = schema.type[0];
  if (hasObjectShape(schema)) {
    if (!('additionalProperties' in schema)) schema.additionalProperties = false;
    else if (schema.additionalProperties !== false) {
      throw new Error(
        `Object schema at \`${where(path)}\` must set \`additionalProperties: false\` to be compatible with strict Structured Outputs.`,
      );
    }
  }
  const required = (schema.required ?? []) as string[];
  const properties = schema.properties;
  if (hasObjectShape(schema)) {
    for (const key of required) {
      if (!isObject(properties) || !Object.hasOwn(properties, key)) {
        throw new Error(
          `Object schema at \`${where(path)}\` requires property \`${key}\` but does not declare it in \`properties\`.`,
        );
      }
    }
  }
  if (isObject(properties)) {
    for (const [key, value] of Object.entries(properties)) {
      if (!required.includes(key) && !isNullable(value, root)) {
        throw new Error(
          `Schema field at \`${[...path, 'properties', key].join('/')}\` uses \`.optional()\` without \`.nullable()\` which is not supported by the API. See: https://platform.openai.com/docs/guides/structured-outputs?api-mode=responses#all-fields-must-be-required`,
        );
      }
    }
    schema.required = Object.keys(properties);
  }
  if (Array.isArray(schema.items)) {
    throw new Error(
      `Schema at \`${where(path)}\` uses tuple-form \`items\`, which cannot be represented in strict Structured Outputs.`,
    );
  }
  if (schema.additionalItems !== undefined) {
    throw new Error(
      `Schema at \`${where(path)}\` uses unsupported keyword \`additionalItems\` and cannot be represented in strict Structured Outputs.`,
    );
  }
  const allOf = schema.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && isObject(allOf[0])) {
    const resolved = ensureStrict(allOf[0], [...path, 'allOf', '0'], root);
    const annotations = { ...schema };
    delete annotations.allOf;
    Object.assign(schema, resolved, annotations);
    delete schema.allOf;
  }
  for (const keyword of UNSUPPORTED) {
    if (schema[keyword] !== undefined) {
      throw new Error(
        `Schema at \`${where(path)}\` uses unsupported keyword \`${keyword}\` and cannot be represented in strict Structured Outputs.`,
      );
    }
  }
  const t = schema.type;
  if ((t === 'array' || (Array.isArray(t) && t.includes('array'))) && schema.items === undefined) {
    throw new Error(
      `Schema at \`${where(path)}\` declares an array without \`items\`, which cannot be represented in strict Structured Outputs.`,
    );
  }
  if (isObject(schema.additionalProperties)) {
    ensureStrict(schema.additionalProperties, [...path, 'additionalProperties'], root);
  }
  if (isObject(schema.items)) ensureStrict(schema.items, [...path, 'items'], root);
  for (const keyword of ['anyOf', 'oneOf']) {
    const branches = schema[keyword];
    if (!Array.isArray(branches)) continue;
    for (const [i, b] of branches.entries()) ensureStrict(b, [...path, keyword, String(i)], root);
  }
  for (const keyword of ['$defs', 'definitions', 'properties']) {
    const map = schema[keyword];
    if (!isObject(map)) continue;
    for (const [key, child] of Object.entries(map)) ensureStrict(child, [...path, keyword, key], root);
  }
  if (schema.default === null) delete schema.default;
  return schema;
}
