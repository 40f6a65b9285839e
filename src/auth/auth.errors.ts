import { AppError } from '../common/app-error.js';

export const AuthErrors = {
  missingKey: () =>
    new AppError('unauthorized', 'Send an API key as "Authorization: Bearer <key>".', {
      headers: { 'www-authenticate': 'Bearer' },
    }),
  invalidKey: () =>
    new AppError('unauthorized', 'The API key is not valid or has been deleted.', {
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    }),
  adminOnly: () => new AppError('forbidden', 'This route needs an admin API key.'),
  linkNotGranted: () =>
    new AppError('forbidden', 'This API key is not granted access to this link.'),
  tooManyFailures: (retryAfterSeconds: number) =>
    new AppError(
      'too_many_requests',
      `Too many failed authentication attempts from this address; retry in ${retryAfterSeconds} s.`,
      { headers: { 'retry-after': String(retryAfterSeconds) } },
    ),
};

export const ApiKeyErrors = {
  notFound: () => AppError.notFound('The API key'),
  environmentKeyIsPermanent: () =>
    new AppError(
      'conflict',
      'This admin key comes from ADMIN_API_KEY (or the generated key file); change that instead.',
    ),
};
