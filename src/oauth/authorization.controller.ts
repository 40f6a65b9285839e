import {
  Body,
  Controller,
  HttpCode,
  Post,
  type ArgumentMetadata,
  type PipeTransform,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { ApiKeyPrincipal } from '../auth/api-key-principal.js';
import { CurrentApiKey } from '../auth/auth.decorators.js';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { StrictValidationPipe, UuidParam } from '../common/validation.js';
import { AuthorizationService } from './authorization.service.js';
import { DeviceAuthorizationService } from './device-authorization.service.js';

export const AUTHORIZATION_METHODS = ['browser', 'device'] as const;
export type AuthorizationMethod = (typeof AUTHORIZATION_METHODS)[number];

export class AuthorizeLinkDto {
  @ApiPropertyOptional({
    enum: AUTHORIZATION_METHODS,
    default: 'browser',
    description:
      '"browser": the authorization-code flow through Outlink\'s callback; "device": the device ' +
      'authorization flow (RFC 8628) for when no browser can reach the callback',
  })
  @IsOptional()
  @IsIn(AUTHORIZATION_METHODS)
  method?: AuthorizationMethod;
}

/**
 * The body is optional: a bare POST starts the browser flow, as before the device flow existed.
 * The global pipe refuses a missing body for a DTO, so the parameter is typed as a union (which
 * it skips) and this pipe validates an absent body as {}; a JSON null is still refused.
 */
class OptionalAuthorizeBodyPipe implements PipeTransform {
  private readonly strict = new StrictValidationPipe();

  transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    return this.strict.transform(value === undefined ? {} : value, {
      ...metadata,
      metatype: AuthorizeLinkDto,
    });
  }
}

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

export class DeviceAuthorizationStartedDto {
  @ApiProperty({ example: 'WDJB-MJHT', description: 'The code the user enters at verificationUri' })
  userCode: string;

  @ApiProperty({ format: 'uri', description: 'Where the user signs in and enters userCode' })
  verificationUri: string;

  @ApiProperty({
    type: String,
    format: 'uri',
    nullable: true,
    description: 'verificationUri with the code filled in, when the provider offers one',
  })
  verificationUriComplete: string | null;

  @ApiProperty({ format: 'date-time', description: 'The user must approve before this' })
  expiresAt: string;

  @ApiProperty({
    description:
      'Seconds between the polls Outlink makes in the background until the user approved, ' +
      'denied or the code expired',
  })
  interval: number;
}

@ApiTags('links')
@ApiBearerAuth()
@ApiProblemResponses(401, 403)
@ApiExtraModels(AuthorizationStartedDto, DeviceAuthorizationStartedDto)
@Controller('v1/links')
export class AuthorizationController {
  constructor(
    private readonly authorizations: AuthorizationService,
    private readonly deviceAuthorizations: DeviceAuthorizationService,
  ) {}

  @Post(':id/authorize')
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Start the authorization-code flow, or with method "device" the device flow; the link status does not change',
  })
  @ApiBody({ type: AuthorizeLinkDto, required: false })
  @ApiCreatedResponse({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(AuthorizationStartedDto) },
        { $ref: getSchemaPath(DeviceAuthorizationStartedDto) },
      ],
    },
  })
  @ApiProblemResponses(400, 404, 409)
  async authorizeLink(
    @UuidParam('id') id: string,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
    @Body(OptionalAuthorizeBodyPipe) body: AuthorizeLinkDto | undefined,
  ): Promise<AuthorizationStartedDto | DeviceAuthorizationStartedDto> {
    if (body?.method === 'device') {
      const device = await this.deviceAuthorizations.start(id, apiKey.id);
      return {
        userCode: device.userCode,
        verificationUri: device.verificationUri,
        verificationUriComplete: device.verificationUriComplete,
        expiresAt: device.expiresAt.toISOString(),
        interval: device.interval,
      };
    }
    const started = await this.authorizations.start(id, apiKey.id);
    return {
      authorizationUrl: started.authorizationUrl,
      expiresAt: started.expiresAt.toISOString(),
    };
  }
}
