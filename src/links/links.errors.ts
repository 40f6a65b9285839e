import { AppError } from '../common/app-error.js';

export const LinkErrors = {
  notFound: () => AppError.notFound('The link'),
  changedConcurrently: () =>
    new AppError(
      'conflict',
      'The link was changed by another request meanwhile; read it again and retry.',
    ),
  discoveryFailed: (reason: string) =>
    AppError.validation(
      [{ field: 'issuer', message: `the discovery document could not be used: ${reason}` }],
      'The issuer could not be discovered.',
    ),
};
