import { Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import type { ApiKeyPrincipal } from '../auth/api-key-principal.js';
import { CurrentApiKey } from '../auth/auth.decorators.js';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { UuidParam } from '../common/validation.js';
import { AuthorizationService } from './authorization.service.js';

export class AuthorizationStartedDto {
  @ApiProperty({
    format: 'uri',
    description: 'Open this in a browser, sign in at the provider and consent',
  })
  authorizationUrl: string;

  @ApiProperty({
    format: 'date-time',
    description: 'The authorization must be completed before this',
  })
  expiresAt: string;
}

@ApiTags('links')
@ApiBearerAuth()
@ApiProblemResponses(401, 403)
@Controller('v1/links')
export class AuthorizationController {
  constructor(private readonly authorizations: AuthorizationService) {}

  @Post(':id/authorize')
  @HttpCode(201)
  @ApiOperation({ summary: 'Start the authorization-code flow; the link status does not change' })
  @ApiCreatedResponse({ type: AuthorizationStartedDto })
  @ApiProblemResponses(400, 404, 409)
  async authorizeLink(
    @UuidParam('id') id: string,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
  ): Promise<AuthorizationStartedDto> {
    const started = await this.authorizations.start(id, apiKey.id);
    return {
      authorizationUrl: started.authorizationUrl,
      expiresAt: started.expiresAt.toISOString(),
    };
  }
}
