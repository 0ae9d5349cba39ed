/**
 * zod 3 schema → JSON Schema (draft-07) for Structured Outputs, giving what openai-node's helpers send
 * for the same schema: objects with every property required and `additionalProperties: false`
 * (a `.optional()` property that is not `.nullable()` and has no default is refused: the API requires
 * every field), `{ type, nullable: true }` for nullable primitives, unions of primitives / literals
 * folded into `type` / `enum`, and a zod schema object met a second time (shared or recursive via
 * `z.lazy`) written once under `definitions` (named after its first path, `a_properties_b`) and
 * referenced with `$ref` (a recursive root is duplicated under `definitions/<name>`).
 *
 * Reads zod 3's public schema definitions (`_def.typeName`, checks); needs no zod import. Types with no
 * JSON form (functions, symbols, `void`) are left out, as openai-node does; `Map`, `Set` and `bigint`
 * throw (Structured Outputs has no form for them).
 * Reference: https://platform.openai.com/docs/guides/structured-outputs#supported-schemas
 */

type Json = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: zod 3 definitions are read structurally
type Def = any;

interface Refs {
  name: string;
  currentPath: string[];
  propertyPath: string[] | undefined;
  seen: Map<Def, { path: string[] }>;
  definitions: Map<string, Def>;
  seenRefs: Set<string>;
}

const PRIMITIVES: Record<string, string> = {
  ZodString: 'string',
  ZodNumber: 'number',
  ZodBigInt: 'integer',
  ZodBoolean: 'boolean',
  ZodNull: 'null',
};

/** A path part as a definition-name segment (`_x_` + UTF-16 hex for anything but `[A-Za-z0-9_-]`). */
function encodePart(part: string): string {
  if (/^[A-Za-z0-9_-]*$/.test(part) && !part.startsWith('_x_')) return part;
  let out = '_x_';
  for (let i = 0; i < part.length; i++) out += part.charCodeAt(i).toString(16).padStart(4, '0');
  return out;
}

/** JSON Schema of the zod 3 schema `schema`, named `name` (the response format's or function's name). */
export function zodV3ToJsonSchema(schema: { _def: Def }, name: string): Json {
  const refs: Refs = {
    name,
    currentPath: ['#', 'definitions', name],
    propertyPath: undefined,
    seen: new Map(),
    definitions: new Map(),
    seenRefs: new Set(),
  };
  const main = parseDef(schema._def, refs) ?? {};
  const definitions: Json = {};
  const done = new Set<string>();
  for (let round = 0; round < 500; round++) {
    const pending = [...refs.definitions].filter(([key]) => !done.has(key));
    if (pending.length === 0) break;
    for (const [key, def] of pending) {
      definitions[key] = parseDef(def, { ...refs, currentPath: ['#', 'definitions', key] }, true) ?? {};
      done.add(key);
    }
  }
  const hasDefinitions = refs.definitions.size > 0;
  const combined: Json = {
    ...main,
    ...(hasDefinitions || refs.seenRefs.size
      ? { definitions: { ...definitions, ...(refs.seenRefs.size ? { [name]: main } : undefined) } }
      : undefined),
  };
  combined.$schema = 'http://json-schema.org/draft-07/schema#';
  return combined;
}

function parseDef(def: Def, refs: Refs, force = false): Json | undefined {
  const seenItem = refs.seen.get(def);
  if (seenItem && !force) {
    const refName = seenItem.path
      .slice(2)
      .map((part, i) => (i === 0 ? part : encodePart(part)))
      .join('_');
    if (refName !== refs.name) refs.definitions.set(refName, def);
    const $ref = ['#', 'definitions', refName].join('/');
    refs.seenRefs.add($ref);
    return { $ref };
  }
  refs.seen.set(def, { path: refs.currentPath });
  try {
    const schema = select(def, refs, force);
    if (schema && def.description) schema.description = def.description;
    return schema;
  } finally {
    if (force && seenItem) refs.seen.set(def, seenItem);
  }
}

const at = (refs: Refs, ...parts: string[]): Refs => ({
  ...refs,
  currentPath: [...refs.currentPath, ...parts],
});

function unsupported(kind: string, refs: Refs): never {
  throw new TypeError(
    `zod ${kind} at \`${refs.currentPath.join('/')}\` has no JSON Schema form Structured Outputs accepts; use an object, array, string, number, boolean, enum, literal, union or nullable instead`,
  );
}

function select(def: Def, refs: Refs, force: boolean): Json | undefined {
  switch (def.typeName as string) {
    case 'ZodString':
      return stringSchema(def);
    case 'ZodNumber':
      return numberSchema(def);
    case 'ZodObject':
      return objectSchema(def, refs);
    case 'ZodBoolean':
      return { type: 'boolean' };
    case 'ZodDate':
      return { type: 'string', format: 'date-time' };
    case 'ZodUndefined':
    case 'ZodNaN':
    case 'ZodNever':
      return { not: {} };
    case 'ZodNull':
      return { type: 'null' };
    case 'ZodArray':
      return arraySchema(def, refs);
    case 'ZodUnion':
    case 'ZodDiscriminatedUnion':
      return unionSchema(def, refs);
    case 'ZodIntersection':
      return intersectionSchema(def, refs);
    case 'ZodTuple':
      return tupleSchema(def, refs);
    case 'ZodRecord':
      return recordSchema(def, refs);
    case 'ZodLiteral':
      return literalSchema(def.value);
    case 'ZodEnum':
      return { type: 'string', enum: [...def.values] };
    case 'ZodNativeEnum':
      return nativeEnumSchema(def.values);
    case 'ZodNullable':
      return nullableSchema(def, refs, force);
    case 'ZodOptional':
      return optionalSchema(def, refs, force);
    case 'ZodLazy':
      return parseDef(def.getter()._def, refs, force);
    case 'ZodPromise':
      return parseDef(def.type._def, refs, force);
    case 'ZodEffects':
      return parseDef(def.schema._def, refs, force);
    case 'ZodAny':
    case 'ZodUnknown':
      return {};
    case 'ZodDefault':
      return { ...parseDef(def.innerType._def, refs, force), default: def.defaultValue() };
    case 'ZodBranded':
      return parseDef(def.type._def, refs, force);
    case 'ZodReadonly':
    case 'ZodCatch':
      return parseDef(def.innerType._def, refs, force);
    case 'ZodPipeline': {
      const a = parseDef(def.in._def, at(refs, 'allOf', '0'));
      const b = parseDef(def.out._def, at(refs, 'allOf', a ? '1' : '0'));
      return { allOf: [a, b].filter((x) => x !== undefined) };
    }
    case 'ZodFunction':
    case 'ZodVoid':
    case 'ZodSymbol':
      return undefined;
    case 'ZodBigInt':
      return unsupported('bigint', refs);
    case 'ZodMap':
      return unsupported('Map', refs);
    case 'ZodSet':
      return unsupported('Set', refs);
    default:
      return unsupported(`type ${String(def.typeName)}`, refs);
  }
}

const escapeLiteral = (value: string) =>
  Array.from(value, (c) => (/[a-zA-Z0-9]/.test(c) ? c : `\\${c}`)).join('');

function stringSchema(def: Def): Json {
  const res: Json = { type: 'string' };
  const addFormat = (format: string) => {
    const anyOf = res.anyOf as Json[] | undefined;
    if (res.format || anyOf?.some((x) => x.format)) {
      res.anyOf ??= [];
      const list = res.anyOf as Json[];
      if (res.format) {
        list.push({ format: res.format });
        delete res.format;
      }
      list.push({ format });
    } else {
      res.format = format;
    }
  };
  const addPattern = (source: string) => {
    const allOf = res.allOf as Json[] | undefined;
    if (res.pattern || allOf?.some((x) => x.pattern)) {
      res.allOf ??= [];
      const list = res.allOf as Json[];
      if (res.pattern) {
        list.push({ pattern: res.pattern });
        delete res.pattern;
      }
      list.push({ pattern: source });
    } else {
      res.pattern = source;
    }
  };
  const min = (v: number) => {
    res.minLength = typeof res.minLength === 'number' ? Math.max(res.minLength, v) : v;
  };
  const max = (v: number) => {
    res.maxLength = typeof res.maxLength === 'number' ? Math.min(res.maxLength, v) : v;
  };
  for (const check of def.checks ?? []) {
    switch (check.kind) {
      case 'min':
        min(check.value);
        break;
      case 'max':
        max(check.value);
        break;
      case 'length':
        min(check.value);
        max(check.value);
        break;
      case 'email':
        addFormat('email');
        break;
      case 'url':
        addFormat('uri');
        break;
      case 'uuid':
        addFormat('uuid');
        break;
      case 'datetime':
        addFormat('date-time');
        break;
      case 'date':
        addFormat('date');
        break;
      case 'time':
        addFormat('time');
        break;
      case 'duration':
        addFormat('duration');
        break;
      case 'ip':
        if (check.version !== 'v6') addFormat('ipv4');
        if (check.version !== 'v4') addFormat('ipv6');
        break;
      case 'base64':
        res.contentEncoding = 'base64';
        break;
      case 'regex':
        addPattern(check.regex.source);
        break;
      case 'startsWith':
        addPattern(`^${escapeLiteral(check.value)}`);
        break;
      case 'endsWith':
        addPattern(`${escapeLiteral(check.value)}$`);
        break;
      case 'includes':
        addPattern(escapeLiteral(check.value));
        break;
      case 'cuid':
        addPattern('^[cC][^\\s-]{8,}$');
        break;
      case 'cuid2':
        addPattern('^[0-9a-z]+$');
        break;
      case 'ulid':
        addPattern('^[0-9A-HJKMNP-TV-Z]{26}$');
        break;
      case 'nanoid':
        addPattern('^[a-zA-Z0-9_-]{21}$');
        break;
      case 'emoji':
        addPattern('^(\\p{Extended_Pictographic}|\\p{Emoji_Component})+$');
        break;
    }
  }
  return res;
}

function numberSchema(def: Def): Json {
  const res: Json = { type: 'number' };
  for (const check of def.checks ?? []) {
    if (check.kind === 'int') res.type = 'integer';
    else if (check.kind === 'min') res[check.inclusive ? 'minimum' : 'exclusiveMinimum'] = check.value;
    else if (check.kind === 'max') res[check.inclusive ? 'maximum' : 'exclusiveMaximum'] = check.value;
    else if (check.kind === 'multipleOf') res.multipleOf = check.value;
  }
  return res;
}

function objectSchema(def: Def, refs: Refs): Json {
  const properties: Json = {};
  const required: string[] = [];
  for (const [key, prop] of Object.entries(def.shape() as Record<string, { _def?: Def } | undefined>)) {
    if (prop?._def === undefined) continue;
    const propertyPath = [...refs.currentPath, 'properties', key];
    const parsed = parseDef(prop._def, { ...refs, currentPath: propertyPath, propertyPath });
    if (parsed === undefined) continue;
    const p = prop as { isOptional(): boolean; isNullable(): boolean };
    if (p.isOptional() && !p.isNullable() && typeof prop._def.defaultValue === 'undefined') {
      throw new Error(
        `Zod field at \`${propertyPath.join('/')}\` uses \`.optional()\` without \`.nullable()\` which is not supported by the API. See: https://platform.openai.com/docs/guides/structured-outputs?api-mode=responses#all-fields-must-be-required`,
      );
    }
    properties[key] = parsed;
    required.push(key);
  }
  const catchall = def.catchall?._def;
  const additionalProperties =
    !catchall || catchall.typeName === 'ZodNever'
      ? def.unknownKeys === 'passthrough'
      : (parseDef(catchall, at(refs, 'additionalProperties')) ?? true);
  return {
    type: 'object',
    properties,
    ...(required.length ? { required } : undefined),
    additionalProperties,
  };
}

function arraySchema(def: Def, refs: Refs): Json {
  const res: Json = { type: 'array' };
  if (def.type?._def?.typeName !== 'ZodAny') res.items = parseDef(def.type._def, at(refs, 'items'));
  if (def.minLength) res.minItems = def.minLength.value;
  if (def.maxLength) res.maxItems = def.maxLength.value;
  if (def.exactLength) {
    res.minItems = def.exactLength.value;
    res.maxItems = def.exactLength.value;
  }
  return res;
}

function unionSchema(def: Def, refs: Refs): Json | undefined {
  const options: { _def: Def; description?: string }[] =
    def.options instanceof Map ? [...def.options.values()] : def.options;
  if (options.every((x) => x._def.typeName in PRIMITIVES && !x._def.checks?.length)) {
    const types = [...new Set(options.map((x) => PRIMITIVES[x._def.typeName] as string))];
    return { type: types.length > 1 ? types : types[0] };
  }
  if (options.every((x) => x._def.typeName === 'ZodLiteral' && !x.description)) {
    const kinds = options.map((x) => {
      const v = x._def.value;
      const t = typeof v;
      return t === 'string' || t === 'number' || t === 'boolean'
        ? t
        : t === 'bigint'
          ? 'integer'
          : v === null
            ? 'null'
            : undefined;
    });
    if (kinds.every((k) => k !== undefined)) {
      const unique = [...new Set(kinds)];
      const values: unknown[] = [];
      for (const x of options) if (!values.includes(x._def.value)) values.push(x._def.value);
      return { type: unique.length > 1 ? unique : unique[0], enum: values };
    }
  } else if (options.every((x) => x._def.typeName === 'ZodEnum')) {
    const values: unknown[] = [];
    for (const x of options) for (const v of x._def.values) if (!values.includes(v)) values.push(v);
    return { type: 'string', enum: values };
  }
  const anyOf = options.map((x, i) => parseDef(x._def, at(refs, 'anyOf', `${i}`))).filter((x) => !!x);
  return anyOf.length ? { anyOf } : undefined;
}

function intersectionSchema(def: Def, refs: Refs): Json | undefined {
  const parts = [
    parseDef(def.left._def, at(refs, 'allOf', '0')),
    parseDef(def.right._def, at(refs, 'allOf', '1')),
  ];
  const allOf: Json[] = [];
  for (const part of parts) {
    if (!part) continue;
    if ('allOf' in part && part.type !== 'string') allOf.push(...(part.allOf as Json[]));
    else if (part.additionalProperties === false) {
      const { additionalProperties: _, ...rest } = part;
      allOf.push(rest);
    } else allOf.push(part);
  }
  return allOf.length ? { allOf } : undefined;
}

function tupleSchema(def: Def, refs: Refs): Json {
  const items = (def.items as { _def: Def }[])
    .map((x, i) => parseDef(x._def, at(refs, 'items', `${i}`)))
    .filter((x) => x !== undefined);
  if (def.rest) {
    return {
      type: 'array',
      minItems: def.items.length,
      items,
      additionalItems: parseDef(def.rest._def, at(refs, 'additionalItems')),
    };
  }
  return { type: 'array', minItems: def.items.length, maxItems: def.items.length, items };
}

function recordSchema(def: Def, refs: Refs): Json {
  const schema: Json = {
    type: 'object',
    additionalProperties: parseDef(def.valueType._def, at(refs, 'additionalProperties')) ?? {},
  };
  const key = def.keyType?._def;
  if (key?.typeName === 'ZodString' && key.checks?.length) {
    const { type: _, ...names } = stringSchema(key);
    return { ...schema, propertyNames: names };
  }
  if (key?.typeName === 'ZodEnum') return { ...schema, propertyNames: { enum: key.values } };
  return schema;
}

function literalSchema(value: unknown): Json {
  const t = typeof value;
  if (t !== 'bigint' && t !== 'number' && t !== 'boolean' && t !== 'string') {
    return { type: Array.isArray(value) ? 'array' : 'object' };
  }
  return { type: t === 'bigint' ? 'integer' : t, const: value };
}

function nativeEnumSchema(values: Record<string, string | number>): Json {
  const keys = Object.keys(values).filter(
    (key) => typeof values[values[key] as string | number] !== 'number',
  );
  const actual = keys.map((key) => values[key]);
  const types = [...new Set(actual.map((v) => typeof v))];
  return {
    type: types.length === 1 ? (types[0] === 'string' ? 'string' : 'number') : ['string', 'number'],
    enum: actual,
  };
}

function nullableSchema(def: Def, refs: Refs, force: boolean): Json | undefined {
  const inner = def.innerType._def;
  if (
    ['ZodString', 'ZodNumber', 'ZodBigInt', 'ZodBoolean', 'ZodNull'].includes(inner.typeName) &&
    !inner.checks?.length
  ) {
    return { type: PRIMITIVES[inner.typeName], nullable: true };
  }
  const base = parseDef(inner, at(refs, 'anyOf', '0'));
  void force;
  return base && { anyOf: [base, { type: 'null' }] };
}

function optionalSchema(def: Def, refs: Refs, force: boolean): Json | undefined {
  const { propertyPath, currentPath } = refs;
  if (propertyPath && currentPath.slice(0, propertyPath.length).toString() === propertyPath.toString()) {
    return parseDef(def.innerType._def, refs, force);
  }
  const inner = parseDef(def.innerType._def, at(refs, 'anyOf', '1'), force);
  return inner ? { anyOf: [{ not: {} }, inner] } : {};
}
