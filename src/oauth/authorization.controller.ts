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
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { ApiKeyPrincipal } from '../auth/api-key-principal.js';
import { CurrentApiKey } from '../auth/auth.decorators.js';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { StrictValidationPipe, UuidParam } from '../common/validation.js';
import {
  AuthorizationStartedDto,
  AuthorizeLinkDto,
  DeviceAuthorizationStartedDto,
} from './authorization.dto.js';
import { AuthorizationService } from './authorization.service.js';
import { DeviceAuthorizationService } from './device-authorization.service.js';

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
    const started = await this.authorizations.start(id, apiKey.id, {
      allowAccountChange: body?.allowAccountChange === true,
    });
    return {
      authorizationUrl: started.authorizationUrl,
      expiresAt: started.expiresAt.toISOString(),
    };
  }
}
