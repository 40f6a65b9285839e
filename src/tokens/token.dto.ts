import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { LinkAccountDto } from '../links/link.dto.js';
import type { LinkAccount } from '../links/link.entity.js';
import { isSaslUser, MAX_SASL_USER_LENGTH } from './sasl.js';

/** SPEC §11's rule for `user`; see isSaslUser. */
const IsSaslUser = (): PropertyDecorator =>
  ValidateBy({
    name: 'isSaslUser',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isSaslUser(value),
      defaultMessage: () =>
        `user must be 1-${MAX_SASL_USER_LENGTH} characters without whitespace or control characters`,
    },
  });

export const SASL_FORMATS = ['xoauth2', 'oauthbearer'] as const;

export class TokenQueryDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 3600,
    default: 60,
    description: 'Seconds the token must stay valid',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3600)
  minValidity: number = 60;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: MAX_SASL_USER_LENGTH,
    example: 'alice@example.com',
    description:
      'Adds `xoauth2` and `oauthbearer` for this mailbox user: an e-mail address or a plain login, without ' +
      'whitespace or control characters. Default: the e-mail (else username) of the account that consented.',
  })
  @IsOptional()
  @IsString()
  @IsSaslUser()
  user?: string;

  // SPEC §15
  @ApiPropertyOptional({
    enum: SASL_FORMATS,
    description:
      'Requires `xoauth2` and `oauthbearer` in the answer: 400 when no mailbox is known (give ' +
      '`user`), instead of an answer without them. An app-only (client credentials) token names ' +
      'no user, so its SASL strings always need one.',
  })
  @IsOptional()
  @IsIn(SASL_FORMATS)
  format?: (typeof SASL_FORMATS)[number];
}

/** Longer than any access token seen in practice (Microsoft's JWTs run to a few KiB). */
const MAX_ACCESS_TOKEN_LENGTH = 16_384;

/** POST /v1/links/{id}/token/renew: the query of GET /token plus the token that was refused. */
export class RenewTokenDto extends TokenQueryDto {
  @ApiProperty({
    minLength: 1,
    maxLength: MAX_ACCESS_TOKEN_LENGTH,
    writeOnly: true,
    description:
      'The access token a resource server (IMAP, SMTP, an API) refused. Renewed if it is still the ' +
      "link's token; otherwise the link's current token is returned without calling the provider.",
  })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_ACCESS_TOKEN_LENGTH)
  rejectedAccessToken: string;
}

export class TokenResponseDto {
  @ApiProperty({ format: 'uuid' }) linkId: string;
  @ApiProperty() accessToken: string;
  @ApiProperty({ example: 'Bearer' }) tokenType: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: "The provider's expiry",
  })
  expiresAt: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Seconds until expiresAt' }) expiresIn:
    number | null;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({
    description:
      "False when even the freshest token cannot stay valid for minValidity seconds (the provider's tokens live shorter); it is served all the same, and not refreshed again within MIN_REFRESH_INTERVAL_SECONDS of being obtained.",
  })
  meetsMinValidity: boolean;

  @ApiPropertyOptional({
    description:
      'base64 of user={user}^Aauth=Bearer {accessToken}^A^A, for IMAP/SMTP AUTHENTICATE XOAUTH2',
  })
  xoauth2?: string;

  @ApiPropertyOptional({
    description:
      'base64 of n,a={user},^Aauth=Bearer {accessToken}^A^A (RFC 7628; "," and "=" in the user ' +
      'sent as =2C and =3D), for IMAP/SMTP AUTHENTICATE OAUTHBEARER',
  })
  oauthbearer?: string;

  @ApiProperty({
    type: LinkAccountDto,
    nullable: true,
    description: 'Who consented to the grant (SPEC §12); null when unknown',
  })
  account: LinkAccount | null;
}
