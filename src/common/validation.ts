import {
  Param,
  ParseUUIDPipe,
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationError,
} from '@nestjs/common';
import { AppError, type FieldError } from './app-error.js';

/** Flattens class-validator's tree into `{ field: "a.b[0]", message }` entries. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.replace(/^property (\S+) should not exist$/, 'is not a known field'),
    }));
    return [...own, ...toFieldErrors(error.children ?? [], field)];
  });
}

/** No DTO has these fields; Nest would strip them silently instead of refusing them as unknown. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * What class-validator cannot see: prototype keys at any depth, and U+0000 in any string or key
 * (PostgreSQL cannot store it in text or jsonb, so it was a 500). Iterative, like the JSON
 * parser's depth check, so a deep value cannot overflow the stack.
 */
export function forbiddenContent(value: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const pending: { value: unknown; field: string }[] = [{ value, field: '' }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { field } = item;
    if (typeof item.value === 'string' && item.value.includes('\u0000')) {
      errors.push({ field: field || 'value', message: 'must not contain NUL (U+0000) characters' });
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    const isArray = Array.isArray(item.value);
    for (const [key, child] of Object.entries(item.value)) {
      const path = isArray ? `${field}[${key}]` : field ? `${field}.${key}` : key;
      if (!isArray && PROTOTYPE_KEYS.has(key))
        errors.push({ field: path, message: 'is not a known field' });
      else if (key.includes('\u0000'))
        errors.push({ field: path, message: 'is not a known field' });
      pending.push({ value: child, field: path });
    }
  }
  return errors;
}

/**
 * Global input validation: unknown fields are refused (SPEC §2) and every failure becomes a 400
 * validation_failed listing each field. A JSON body that is not an object (an array, a string)
 * is refused before class-transformer can turn it into something else.
 */
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => AppError.validation(toFieldErrors(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const isDto = typeof metadata.metatype === 'function' && metadata.metatype !== Object;
    if (
      metadata.type === 'body' &&
      isDto &&
      (typeof value !== 'object' || value === null || Array.isArray(value))
    ) {
      throw AppError.validation([{ field: 'body', message: 'must be a JSON object' }]);
    }
    if (isDto && (metadata.type === 'body' || metadata.type === 'query')) {
      const forbidden = forbiddenContent(value);
      if (forbidden.length > 0) throw AppError.validation(forbidden);
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

const notAUuid = (name: string): AppError =>
  AppError.validation([{ field: name, message: `${name} must be a UUID` }]);

/** A path parameter that must be a UUID; anything else is a 400 naming the parameter. */
export function UuidParam(name: string): ParameterDecorator {
  return Param(name, new ParseUUIDPipe({ exceptionFactory: () => notAUuid(name) }));
}

/** ParseUUIDPipe's own test (versions 1-8, nil and max UUIDs), for a value read without a pipe. */
class UuidTest extends ParseUUIDPipe {
  accepts(value: unknown): value is string {
    return typeof value === 'string' && this.isUUID(value);
  }
}
const uuidTest = new UuidTest();

/**
 * What UuidParam answers, for a route that reads its path parameters itself (the token route:
 * see tokens.controller.ts).
 */
export function checkUuidParam(name: string, value: unknown): string {
  if (uuidTest.accepts(value)) return value;
  throw notAUuid(name);
}
