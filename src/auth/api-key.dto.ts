import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  MinLength,
} from 'class-validator';
import { API_KEY_ROLES, type ApiKeyEntity, type ApiKeyRole } from './api-key.entity.js';
import { reachesAllLinks } from './link-grant.js';

export class CreateApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'mail-handler' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiProperty({ enum: API_KEY_ROLES, example: 'consumer' })
  @IsIn(API_KEY_ROLES)
  role: ApiKeyRole;

  @ApiProperty({
    type: [String],
    format: 'uuid',
    required: false,
    minItems: 1,
    description:
      'Consumer keys: the links the key may use. A consumer key needs this or `allLinks: true`.',
  })
  // null passes @IsOptional and is refused by linkGrantErrors, which names the field.
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  linkIds?: string[] | null;

  @ApiProperty({
    type: Boolean,
    required: false,
    description: 'Consumer keys: `true` grants every link, now and future. Instead of `linkIds`.',
  })
  @IsOptional()
  @IsBoolean()
  allLinks?: boolean | null;
}

export class ApiKeyResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ enum: API_KEY_ROLES })
  role: ApiKeyRole;

  @ApiProperty({
    type: [String],
    format: 'uuid',
    nullable: true,
    description: 'The links a consumer key may use; null when it reaches every link.',
  })
  linkIds: string[] | null;

  @ApiProperty({ description: 'True when the key reaches every link (admin keys always do).' })
  allLinks: boolean;

  @ApiProperty({
    description: 'The first characters of the key, to tell keys apart.',
    example: 'olk_Ab3x',
  })
  keyHint: string;

  @ApiProperty({
    description: 'True for the bootstrap admin key from ADMIN_API_KEY or the key file.',
  })
  fromEnvironment: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  lastUsedAt: string | null;

  static from(entity: ApiKeyEntity): ApiKeyResponseDto {
    return {
      id: entity.id,
      name: entity.name,
      role: entity.role,
      linkIds: entity.linkIds,
      allLinks: reachesAllLinks(entity.linkIds),
      keyHint: entity.keyHint,
      fromEnvironment: entity.fromEnvironment,
      createdAt: entity.createdAt.toISOString(),
      lastUsedAt: entity.lastUsedAt?.toISOString() ?? null,
    };
  }
}

export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  @ApiProperty({ description: 'The key itself. Shown only in this response: store it now.' })
  key: string;
}

export class ApiKeyListResponseDto {
  @ApiProperty({ type: [ApiKeyResponseDto] })
  items: ApiKeyResponseDto[];
}
