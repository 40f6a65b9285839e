import { AppError, type FieldError } from '../common/app-error.js';
import { checkUuidParam, forbiddenContent } from '../common/validation.js';
import { isSaslUser, MAX_SASL_USER_LENGTH } from './sasl.js';

/** The query of GET /v1/links/{id}/token, parsed (documented by TokenQueryDto). */
export interface TokenQuery {
  /** Seconds the token must stay valid; 60 when absent. */
  minValidity: number;
  user?: string;
  /** SPEC §15: require the SASL strings (400 when no mailbox is known). */
  format?: SaslFormat;
}

export const SASL_FORMATS = ['xoauth2', 'oauthbearer'] as const;
export type SaslFormat = (typeof SASL_FORMATS)[number];

export const DEFAULT_MIN_VALIDITY_SECONDS = 60;
export const MAX_MIN_VALIDITY_SECONDS = 3600;

const KNOWN_PARAMETERS = new Set(['minValidity', 'user', 'format']);

/**
 * Parses the token route's query by hand instead of through the global validation pipe: on the
 * route other services call all day, class-transformer + class-validator were the largest single
 * cost (issue 10). It answers what the pipe answered for the same input: the same
 * validation_failed fields and messages, in the same order, and the same lenient number syntax
 * (class-transformer's Number(): "" is 0, " 5 " is 5, repeated parameters are refused).
 */
export function parseTokenQuery(query: Record<string, unknown>): TokenQuery {
  let errors: FieldError[] | undefined;
  let minValidity = DEFAULT_MIN_VALIDITY_SECONDS;
  let user: string | undefined;
  let format: SaslFormat | undefined;
  for (const name of Object.keys(query)) {
    const value = query[name];
    if (name === 'minValidity') {
      // A repeated parameter arrives as an array, which the pipe's Number() turned into NaNs.
      const seconds = typeof value === 'string' ? Number(value) : Number.NaN;
      if (Number.isInteger(seconds) && seconds >= 0 && seconds <= MAX_MIN_VALIDITY_SECONDS)
        minValidity = seconds === 0 ? 0 : seconds; // -0 is 0
      else (errors ??= []).push(...minValidityErrors(seconds));
    } else if (name === 'user') {
      if (typeof value === 'string' && isSaslUser(value)) user = value;
      else (errors ??= []).push(...userErrors(value));
    } else if (name === 'format') {
      if (isSaslFormat(value)) format = value;
      else
        (errors ??= []).push({
          field: 'format',
          message: `format must be one of the following values: ${SASL_FORMATS.join(', ')}`,
        });
    } else {
      (errors ??= []).push({ field: name, message: 'is not a known field' });
    }
  }
  if (errors !== undefined) {
    // NUL characters and prototype keys, which the pipe checked first, win as they did there
    // (a name or value holding one never passes the checks above, so valid input skips this).
    const forbidden = forbiddenContent(query);
    throw AppError.validation(forbidden.length > 0 ? forbidden : unknownFirst(errors));
  }
  const parsed: TokenQuery = { minValidity };
  if (user !== undefined) parsed.user = user;
  if (format !== undefined) parsed.format = format;
  return parsed;
}

/** What GET /v1/links/{id}/token asks for, checked. */
export interface TokenRequest {
  linkId: string;
  query: TokenQuery;
}

/**
 * The token route's path parameter and query, read from the request in the handler rather than
 * through parameter decorators: on Nest 12 every decorated parameter of a route with a global
 * pipe costs a chain of about a dozen promises per request, half of all the promises a warm
 * token request made, and on Node 20 each promise also pays the request log context's
 * async_hooks (issue 10). The answers are the parameter pipes': the query's errors come first
 * (its decorator threw synchronously, so it rejected before the id's pipe chain), then the id's.
 */
export function parseTokenRequest(request: { params: unknown; query: unknown }): TokenRequest {
  const query = parseTokenQuery(request.query as Record<string, unknown>);
  const linkId = checkUuidParam('id', (request.params as Record<string, unknown>).id);
  return { linkId, query };
}

function isSaslFormat(value: unknown): value is SaslFormat {
  return typeof value === 'string' && (SASL_FORMATS as readonly string[]).includes(value);
}

function minValidityErrors(seconds: number): FieldError[] {
  const field = 'minValidity';
  const errors: FieldError[] = [];
  if (!(seconds <= MAX_MIN_VALIDITY_SECONDS))
    errors.push({
      field,
      message: `minValidity must not be greater than ${MAX_MIN_VALIDITY_SECONDS}`,
    });
  if (!(seconds >= 0)) errors.push({ field, message: 'minValidity must not be less than 0' });
  if (!Number.isInteger(seconds))
    errors.push({ field, message: 'minValidity must be an integer number' });
  return errors;
}

function userErrors(value: unknown): FieldError[] {
  const errors: FieldError[] = [
    {
      field: 'user',
      message: `user must be 1-${MAX_SASL_USER_LENGTH} characters without whitespace or control characters`,
    },
  ];
  if (typeof value !== 'string') errors.push({ field: 'user', message: 'user must be a string' });
  return errors;
}

/** class-validator reported unknown parameters before the known ones. */
function unknownFirst(errors: FieldError[]): FieldError[] {
  const unknown = errors.filter((error) => !KNOWN_PARAMETERS.has(error.field));
  return unknown.length === 0
    ? errors
    : [...unknown, ...errors.filter((e) => KNOWN_PARAMETERS.has(e.field))];
}
