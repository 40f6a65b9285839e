import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import {
  getProviderPreset,
  isProviderId,
  PROVIDER_IDS,
  PROVIDER_PRESETS,
} from './provider-preset.js';
import { ProviderListResponseDto, ProviderResponseDto } from './providers.dto.js';
import { ProviderErrors } from './providers.errors.js';

/** The built-in provider presets (SPEC §4): what each fills in, needs and warns about. */
@ApiTags('providers')
@ApiBearerAuth()
@ApiProblemResponses(401, 403)
@Controller('v1/providers')
export class ProvidersController {
  @Get()
  @ApiOkResponse({ type: ProviderListResponseDto, description: 'Every built-in preset.' })
  listProviders(): ProviderListResponseDto {
    return { items: PROVIDER_PRESETS.map((preset) => ProviderResponseDto.from(preset)) };
  }

  @Get(':providerId')
  @ApiParam({ name: 'providerId', enum: PROVIDER_IDS })
  @ApiOkResponse({
    type: ProviderResponseDto,
    description: 'The preset, resolved for its default settings.',
  })
  @ApiProblemResponses(404)
  getProvider(@Param('providerId') providerId: string): ProviderResponseDto {
    if (!isProviderId(providerId)) throw ProviderErrors.notFound();
    return ProviderResponseDto.from(getProviderPreset(providerId));
  }
}
