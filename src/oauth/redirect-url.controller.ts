import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { AppConfig } from '../config/app-config.js';
import { RedirectUrlResponseDto } from './redirect-url.dto.js';
import { redirectUrlWarnings } from './redirect-url.js';

@ApiTags('oauth')
@ApiBearerAuth()
@ApiProblemResponses(401, 403)
@Controller('v1/oauth')
export class RedirectUrlController {
  constructor(private readonly config: AppConfig) {}

  /** The one redirect URL of every link, checked against what Google and Microsoft accept. */
  @Get('redirect-url')
  @ApiOkResponse({
    type: RedirectUrlResponseDto,
    description: 'The redirect URL to register at the provider, with what it will refuse.',
  })
  getRedirectUrl(): RedirectUrlResponseDto {
    const redirectUrl = this.config.redirectUrl;
    return { redirectUrl, warnings: redirectUrlWarnings(redirectUrl) };
  }
}
