import { AppError } from '../common/app-error.js';
import { PROVIDER_IDS } from './provider-preset.js';

export const ProviderErrors = {
  // The unknown id is not echoed back: it came from the request.
  notFound: () =>
    new AppError(
      'not_found',
      `The provider does not exist; the providers are ${PROVIDER_IDS.join(', ')}.`,
    ),
};
