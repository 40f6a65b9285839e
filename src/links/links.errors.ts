import { AppError, type FieldError } from '../common/app-error.js';

export const LinkErrors = {
  notFound: () => AppError.notFound('The link'),
  changedConcurrently: () =>
    new AppError(
      'conflict',
      'The link was changed by another request meanwhile; read it again and retry.',
    ),
  clientSecretRequired: (
    fields: string[],
    field: 'clientSecret' | 'privateKey' | 'serviceAccountKey' = 'clientSecret',
  ) =>
    new AppError(
      'client_secret_required',
      `Changing ${fields.join(', ')} changes where the client secret and tokens are sent: give ${field === 'privateKey' ? 'privateKey (or null for a new generated key)' : field} again in the same request. The stored tokens are dropped and the link must be authorized again.`,
      {
        errors: [
          {
            field,
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
  noNextClientSecret: () =>
    new AppError(
      'conflict',
      'The link has no next client secret to promote: PATCH it with nextClientSecret first.',
    ),
  // SPEC §15
  noCertificate: () =>
    new AppError(
      'conflict',
      'The link has no private key: only links with tokenEndpointAuthMethod private_key_jwt have a certificate.',
    ),
  endpointNotAllowed: (errors: FieldError[]) =>
    new AppError(
      'endpoint_not_allowed',
      'An endpoint points to an address Outlink does not connect to: loopback, private, ' +
        'link-local and other non-public addresses are refused unless OUTBOUND_ALLOW names them.',
      { errors },
    ),
};
