// Spec schema -> TypeScript text for the operations generator (scripts/generate/operations.mjs):
// TypeWriter (JSON-schema shapes as TS, named schemas as `S.<Name>` of generated/schemas.ts) and
// aliasType (the TS of one TYPE_ALIASES entry of a naming table).

import { doc, prop, schemaIdent } from './operations-config.mjs';

/** Renders JSON-schema shapes as TypeScript, referring to named schemas as `S.<Name>`. */
export class TypeWriter {
  constructor(spec) {
    this.spec = spec;
  }
  resolve(schema) {
    let s = schema;
    for (let i = 0; s?.$ref && i < 20; i++) {
      const ref = s.$ref.split('/');
      // `#/components/parameters/<name>` (Replicate's header parameters), else a schema by its last segment
      s =
        ref[2] === 'parameters'
          ? this.spec.components.parameters?.[ref[3]]
          : this.spec.components.schemas[ref[ref.length - 1]];
    }
    return s ?? {};
  }
  /** The properties of an object schema, through `$ref`s and `allOf`. */
  props(schema, depth = 0) {
    const s = this.resolve(schema);
    const out = { ...(s.properties ?? {}) };
    if (depth < 10) for (const part of s.allOf ?? []) Object.assign(out, this.props(part, depth + 1), out);
    return out;
  }
  ts(schema, indent = '') {
    if (!schema || typeof schema !== 'object') return 'unknown';
    if (schema.$ref) return `S.${schemaIdent(schema.$ref.split('/').pop())}`;
    const nullable = schema.nullable === true ? ' | null' : '';
    if (schema.oneOf || schema.anyOf) {
      const parts = [...new Set((schema.oneOf ?? schema.anyOf).map((x) => this.ts(x, indent)))];
      return `${parts.join(' | ')}${nullable}`;
    }
    if (schema.allOf) return `${schema.allOf.map((x) => this.ts(x, indent)).join(' & ')}${nullable}`;
    if (schema.enum) return `${schema.enum.map((v) => JSON.stringify(v)).join(' | ')}${nullable}`;
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    const type = Array.isArray(schema.type) ? schema.type : [schema.type];
    const out = type.map((t) => {
      switch (t) {
        case 'string':
          return schema.format === 'binary' ? 'Uploadable' : 'string';
        case 'integer':
        case 'number':
          return 'number';
        case 'boolean':
          return 'boolean';
        case 'null':
          return 'null';
        case 'array':
          return `Array<${this.ts(schema.items, indent)}>`;
        case 'object':
        case undefined:
          if (schema.properties) return this.object(schema, indent);
          if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
            return `{ [key: string]: ${this.ts(schema.additionalProperties, indent)} }`;
          }
          return t === 'object' ? '{ [key: string]: unknown }' : 'unknown';
        default:
          return 'unknown';
      }
    });
    return `${[...new Set(out)].join(' | ')}${nullable}`;
  }
  object(schema, indent) {
    const req = new Set(schema.required ?? []);
    const inner = `${indent}  `;
    const fields = Object.entries(schema.properties).map(([k, v]) => {
      const d = v.description ? doc(v.description, inner) : '';
      return `${d}${inner}${prop(k)}${req.has(k) ? '' : '?'}: ${this.ts(v, inner)};`;
    });
    return `{\n${fields.join('\n')}\n${indent}}`;
  }
}

/**
 * The TypeScript of one TYPE_ALIASES entry (forms documented in openai-names.mjs). Every schema and
 * property it names must exist in the spec, so a renamed or dropped schema fails the generator.
 */
export function aliasType(tw, where, target) {
  const schemas = tw.spec.components.schemas;
  const ref = (name) => {
    if (!schemas[name]) throw new Error(`TYPE_ALIASES ${where}: no spec schema '${name}'`);
    return `S.${schemaIdent(name)}`;
  };
  if (typeof target === 'string') return ref(target);
  if (target.union) return target.union.map(ref).join(' | ');
  if (target.array) return `Array<${ref(target.array)}>`;
  if (target.prop) {
    const [name, key] = target.prop.split('.');
    const t = ref(name);
    if (!tw.props({ $ref: `#/components/schemas/${name}` })[key])
      throw new Error(`TYPE_ALIASES ${where}: spec schema '${name}' has no property '${key}'`);
    return `NonNullable<${t}['${key}']>`;
  }
  if (target.item) {
    const [name, key] = target.item.split('.');
    const t = ref(name);
    const p = tw.props({ $ref: `#/components/schemas/${name}` })[key];
    if (!p || tw.resolve(p).type !== 'array')
      throw new Error(`TYPE_ALIASES ${where}: spec schema '${name}' has no array property '${key}'`);
    return `NonNullable<${t}['${key}']>[number]`;
  }
  if (target.literals) {
    const [name, key] = target.literals.split('.');
    ref(name);
    let node = { $ref: `#/components/schemas/${name}` };
    if (key) {
      node = tw.props(node)[key];
      if (!node) throw new Error(`TYPE_ALIASES ${where}: spec schema '${name}' has no property '${key}'`);
    }
    const values = new Set();
    const walk = (x, depth) => {
      const v = tw.resolve(x);
      if (depth > 10 || !v) return;
      for (const e of v.enum ?? []) if (e !== null) values.add(e);
      for (const part of [...(v.anyOf ?? []), ...(v.oneOf ?? []), ...(v.allOf ?? [])]) walk(part, depth + 1);
      if (v.items) walk(v.items, depth + 1);
    };
    walk(node, 0);
    if (!values.size) throw new Error(`TYPE_ALIASES ${where}: '${target.literals}' has no enum values`);
    return [...values].map((v) => JSON.stringify(v)).join(' | ');
  }
  throw new Error(`TYPE_ALIASES ${where}: unknown form ${JSON.stringify(target)}`);
}
