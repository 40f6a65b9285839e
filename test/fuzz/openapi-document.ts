import { readFileSync } from 'node:fs';
import YAML from 'yaml';

/** The parts of a JSON Schema (OpenAPI 3.1 dialect) that the fuzzer reads. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface OperationObject {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  security?: Record<string, string[]>[];
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject | Parameter[]>>;
  components?: { schemas?: Record<string, Schema> };
  security?: Record<string, string[]>[];
}

/** One method + path of the document, with everything resolved that the fuzzer needs. */
export interface Operation {
  id: string;
  method: string;
  path: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  /** The JSON schema of the request body, $refs resolved at the top level. */
  body?: Schema;
  bodyRequired: boolean;
  /** False for routes that declare no security requirement (health). */
  secured: boolean;
}

const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

export class OpenApi {
  private readonly document: OpenApiDocument;

  constructor(file: string) {
    this.document = YAML.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
  }

  /** Every operation of the document, in document order. */
  operations(): Operation[] {
    const operations: Operation[] = [];
    for (const [path, item] of Object.entries(this.document.paths)) {
      const shared = Array.isArray(item.parameters) ? item.parameters : [];
      for (const method of HTTP_METHODS) {
        const operation = item[method] as OperationObject | undefined;
        if (!operation) continue;
        const parameters = [...shared, ...(operation.parameters ?? [])];
        const body = operation.requestBody?.content?.['application/json']?.schema;
        const security = operation.security ?? this.document.security ?? [];
        operations.push({
          id: operation.operationId ?? `${method} ${path}`,
          method: method.toUpperCase(),
          path,
          pathParams: parameters.filter((parameter) => parameter.in === 'path'),
          queryParams: parameters.filter((parameter) => parameter.in === 'query'),
          body: body ? this.resolve(body) : undefined,
          bodyRequired: operation.requestBody?.required === true,
          secured: security.some((requirement) => Object.keys(requirement).length > 0),
        });
      }
    }
    return operations;
  }

  resolve(schema: Schema): Schema {
    let resolved = schema;
    for (let hops = 0; resolved.$ref !== undefined; hops++) {
      const name = /^#\/components\/schemas\/(.+)$/.exec(resolved.$ref)?.[1];
      const target = name === undefined ? undefined : this.document.components?.schemas?.[name];
      if (!target || hops > 20) throw new Error(`Cannot resolve ${resolved.$ref}`);
      resolved = target;
    }
    return resolved;
  }

  /**
   * Why `value` breaks `schema`, or undefined when it does not. Conservative: it only names what a
   * server honouring the document must refuse. An object property the schema does not declare
   * counts (SPEC §2: unknown body fields are rejected); `format: uri` is not checked.
   */
  violation(value: unknown, schema: Schema, at = 'body'): string | undefined {
    const resolved = this.resolve(schema);
    if (resolved.allOf) {
      for (const part of resolved.allOf) {
        const found = this.violation(value, part, at);
        if (found) return found;
      }
    }
    const alternatives = resolved.anyOf ?? resolved.oneOf;
    if (alternatives && alternatives.every((part) => this.violation(value, part, at))) {
      return `${at} matches none of its alternatives`;
    }
    const types = resolved.type === undefined ? undefined : [resolved.type].flat();
    if (types && !types.some((type) => hasJsonType(value, type))) {
      return `${at} is ${jsonTypeOf(value)}, not ${types.join('|')}`;
    }
    if (resolved.enum && !resolved.enum.some((member) => member === value)) {
      return `${at} is not one of ${JSON.stringify(resolved.enum)}`;
    }
    if (typeof value === 'string') return this.stringViolation(value, resolved, at);
    if (typeof value === 'number') {
      if (resolved.minimum !== undefined && value < resolved.minimum)
        return `${at} is below ${resolved.minimum}`;
      if (resolved.maximum !== undefined && value > resolved.maximum)
        return `${at} is above ${resolved.maximum}`;
    }
    if (Array.isArray(value)) return this.arrayViolation(value, resolved, at);
    if (typeof value === 'object' && value !== null) {
      return this.objectViolation(value as Record<string, unknown>, resolved, at);
    }
    return undefined;
  }

  private stringViolation(value: string, schema: Schema, at: string): string | undefined {
    // Code points are never more than UTF-16 units, so each test holds whichever one a server counts.
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength)
      return `${at} is longer than ${schema.maxLength}`;
    if (schema.minLength !== undefined && value.length < schema.minLength)
      return `${at} is shorter than ${schema.minLength}`;
    if (schema.format === 'uuid' && !UUID.test(value)) return `${at} is not a UUID`;
    return undefined;
  }

  private arrayViolation(value: unknown[], schema: Schema, at: string): string | undefined {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      return `${at} has fewer than ${schema.minItems} items`;
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      return `${at} has more than ${schema.maxItems} items`;
    if (!schema.items) return undefined;
    for (const [index, item] of value.entries()) {
      const found = this.violation(item, schema.items, `${at}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }

  private objectViolation(
    value: Record<string, unknown>,
    schema: Schema,
    at: string,
  ): string | undefined {
    const declared = schema.properties ?? {};
    for (const name of schema.required ?? []) {
      if (!Object.hasOwn(value, name)) return `${at}.${name} is missing`;
    }
    for (const [name, field] of Object.entries(value)) {
      const property = Object.hasOwn(declared, name) ? declared[name] : undefined;
      if (property) {
        const found = this.violation(field, property, `${at}.${name}`);
        if (found) return found;
      } else if (typeof schema.additionalProperties === 'object') {
        const found = this.violation(field, schema.additionalProperties, `${at}.${name}`);
        if (found) return found;
      } else if (schema.additionalProperties !== true && schema.properties) {
        return `${at}.${name} is not a documented field`;
      }
    }
    return undefined;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function hasJsonType(value: unknown, type: string): boolean {
  if (type === 'integer') return Number.isInteger(value);
  return jsonTypeOf(value) === type;
}
