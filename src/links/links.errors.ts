import { AppError } from '../common/app-error.js';

export const LinkErrors = {
  notFound: () => AppError.notFound('The link'),
  changedConcurrently: () =>
    new AppError(
      'conflict',
      'The link was changed by another request meanwhile; read it again and retry.',
    ),
  clientSecretRequired: (fields: string[]) =>
    new AppError(
      'client_secret_required',
      `Changing ${fields.join(', ')} changes where the client secret and tokens are sent: give clientSecret again in the same request. The stored tokens are dropped and the link must be authorized again.`,
      {
        errors: [
          {
            field: 'clientSecret',
            message: `required when changing ${fields.join(', ')}`,
          },
        ],
      },
    ),
  discoveryFailed: (reason: string) =>
    AppError.validation(
      [{ field: 'issuer', message: `the discovery document could not be used: ${reason}` }],
      'The issuer could not be discovered.',
    ),
};
