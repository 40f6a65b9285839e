import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiPropertyOptional,
  ApiCreatedResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import type { ApiKeyPrincipal } from '../auth/api-key-principal.js';
import { CurrentApiKey } from '../auth/auth.decorators.js';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { AppError } from '../common/app-error.js';
import { UuidParam } from '../common/validation.js';
import type { FastifyRequest } from 'fastify';
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

/** The optional body of POST /authorize. */
export class AuthorizeLinkDto {
  @ApiPropertyOptional({
    default: false,
    description:
      'Accept consent by another account than the one the link is bound to (SPEC §12); without it such a ' +
      'consent is refused and the link stays as it was. Also leaves out the login_hint.',
  })
  allowAccountChange?: boolean;
}

/**
 * The body is optional (every earlier client posts none), which the global validation pipe
 * cannot express for a DTO, so its one field is checked here.
 */
function authorizeOptions(body: unknown): { allowAccountChange: boolean } {
  if (body === undefined || body === null) return { allowAccountChange: false };
  if (typeof body !== 'object' || Array.isArray(body))
    throw AppError.validation([{ field: 'body', message: 'must be a JSON object' }]);
  const errors = Object.keys(body)
    .filter((key) => key !== 'allowAccountChange')
    .map((key) => ({ field: key, message: 'is not a known field' }));
  const allow = (body as { allowAccountChange?: unknown }).allowAccountChange;
  if (allow !== undefined && typeof allow !== 'boolean')
    errors.push({ field: 'allowAccountChange', message: 'allowAccountChange must be a boolean' });
  if (errors.length > 0) throw AppError.validation(errors);
  return { allowAccountChange: allow === true };
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
  @ApiBody({ type: AuthorizeLinkDto, required: false })
  @ApiCreatedResponse({ type: AuthorizationStartedDto })
  @ApiProblemResponses(400, 404, 409)
  async authorizeLink(
    @UuidParam('id') id: string,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<AuthorizationStartedDto> {
    const started = await this.authorizations.start(id, apiKey.id, authorizeOptions(request.body));
    return {
      authorizationUrl: started.authorizationUrl,
      expiresAt: started.expiresAt.toISOString(),
    };
  }
}
