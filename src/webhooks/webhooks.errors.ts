import { AppError, type FieldError } from '../common/app-error.js';

export const WebhookErrors = {
  notFound: () => AppError.notFound('The webhook'),
  invalid: (errors: FieldError[]) => AppError.validation(errors),
  urlNotAllowed: (message: string) =>
    new AppError(
      'endpoint_not_allowed',
      'The webhook URL points to an address Outlink does not connect to: loopback, private, ' +
        'link-local and other non-public addresses are refused unless OUTBOUND_ALLOW names them.',
      { errors: [{ field: 'url', message }] },
    ),
  disabled: () =>
    new AppError(
      'conflict',
      'The webhook is disabled (its receiver answered 410 Gone); create a new one to send to it again.',
    ),
};
