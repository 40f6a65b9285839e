import type { FastifyInstance } from 'fastify';
import { AppError } from './app-error.js';

/**
 * Deeper request bodies are refused. No DTO comes close; class-transformer and class-validator
 * recurse once per level and overflow the stack a few thousand levels down, which was a 500.
 */
export const MAX_JSON_DEPTH = 32;

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** True when arrays and objects nest more than `limit` levels deep; iterative, so it cannot overflow. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    const depth = item.depth + 1;
    if (depth > limit) return true;
    for (const child of Object.values(item.value)) pending.push({ value: child, depth });
  }
  return false;
}

/**
 * The only body parser of the API (SPEC §2, JSON bodies): any other content type is a 415.
 * Invalid UTF-8 is refused rather than silently turned into U+FFFD, and Fastify's own parser
 * still refuses `__proto__` and `constructor.prototype` keys.
 */
export function useStrictJsonBodies(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = STRICT_UTF8.decode(body as Buffer);
    } catch {
      done(new AppError('invalid_json', 'The request body is not valid UTF-8.'), undefined);
      return;
    }
    // Fastify's parser answers through the callback; its return value carries nothing.
    void parseJson(request, text, (error, parsed) => {
      if (!error && nestedDeeperThan(parsed, MAX_JSON_DEPTH)) {
        done(
          new AppError(
            'invalid_json',
            `JSON nested deeper than ${MAX_JSON_DEPTH} levels is refused.`,
          ),
          undefined,
        );
        return;
      }
      done(error, parsed);
    });
  });
}
