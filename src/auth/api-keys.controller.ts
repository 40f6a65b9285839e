import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { UuidParam } from '../common/validation.js';
import {
  ApiKeyListResponseDto,
  ApiKeyResponseDto,
  CreateApiKeyDto,
  CreatedApiKeyResponseDto,
} from './api-key.dto.js';
import { ApiKeysService } from './api-keys.service.js';

@ApiTags('api-keys')
@ApiBearerAuth()
@ApiProblemResponses(401, 403)
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @ApiCreatedResponse({
    type: CreatedApiKeyResponseDto,
    description: 'The key is shown only here.',
  })
  @ApiProblemResponses(400)
  async createApiKey(@Body() input: CreateApiKeyDto): Promise<CreatedApiKeyResponseDto> {
    const { entity, key } = await this.apiKeys.create(input);
    return { ...ApiKeyResponseDto.from(entity), key };
  }

  @Get()
  @ApiOkResponse({ type: ApiKeyListResponseDto })
  async listApiKeys(): Promise<ApiKeyListResponseDto> {
    const keys = await this.apiKeys.list();
    return { items: keys.map((key) => ApiKeyResponseDto.from(key)) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted; the key is refused from now on.' })
  @ApiProblemResponses(400, 404, 409)
  async deleteApiKey(@UuidParam('id') id: string): Promise<void> {
    await this.apiKeys.delete(id);
  }
}
