import { AppError } from '../common/app-error.js';

export const MailErrors = {
  noMailServers: () =>
    new AppError(
      'conflict',
      'The link has no mail servers: set mail.imap, mail.pop3 or mail.smtp (PATCH /v1/links/{id}).',
    ),
  noMailboxUser: () =>
    new AppError(
      'conflict',
      'No mailbox login is known for this link: set mail.user, or authorize it with the openid and email scopes so Outlink learns the account.',
    ),
};
