import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ApiKeyPrincipal } from '../auth/api-key-principal.js';
import { CurrentApiKey } from '../auth/auth.decorators.js';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { UuidParam } from '../common/validation.js';
import { MailCheckDto } from '../links/link.dto.js';
import { MailCheckService } from './mail-check.service.js';

@ApiTags('links')
@ApiBearerAuth()
@ApiProblemResponses(401, 403)
@Controller('v1/links')
export class MailCheckController {
  constructor(private readonly mailCheck: MailCheckService) {}

  @Post(':id/mail-check')
  @HttpCode(200)
  @ApiOperation({
    summary: "Log into the link's mail servers with its token (IMAP, POP3, SMTP; no mail sent)",
    description:
      'SPEC §12: XOAUTH2 or OAUTHBEARER only. A refusal is followed by one renewal (as POST /token/renew) ' +
      "and one more try. serverResponse is the server's answer verbatim. The result is kept on the link (mailCheck).",
  })
  @ApiOkResponse({ type: MailCheckDto })
  @ApiProblemResponses(400, 404, 409, 503)
  async checkLinkMail(
    @UuidParam('id') id: string,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
  ): Promise<MailCheckDto> {
    return this.mailCheck.check(id, apiKey.id);
  }
}
