import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
import {
  DEFAULT_MIN_VALIDITY_SECONDS,
  MAX_MIN_VALIDITY_SECONDS,
  SASL_FORMATS,
  type SaslFormat,
} from './token-query.js';

const MIN_VALIDITY_DOC = {
  type: 'integer',
  minimum: 0,
  maximum: MAX_MIN_VALIDITY_SECONDS,
  default: DEFAULT_MIN_VALIDITY_SECONDS,
  description: 'Seconds the token must stay valid',
} as const;

const USER_DOC = {
  minLength: 1,
  maxLength: MAX_SASL_USER_LENGTH,
  example: 'alice@example.com',
  description:
    'Adds `xoauth2` and `oauthbearer` for this mailbox user: an e-mail address or a plain login, without ' +
    'whitespace or control characters. Default: the e-mail (else username) of the account that consented.',
} as const;

const FORMAT_DOC = {
  enum: SASL_FORMATS,
  description:
    'Requires `xoauth2` and `oauthbearer` in the answer: 400 when no mailbox is known (give ' +
    '`user`), instead of an answer without them. An app-only (client credentials) token names ' +
    'no user, so its SASL strings always need one.',
} as const;

/**
 * The token route's query, for the OpenAPI document only: the route parses it with
 * parseTokenQuery (token-query.ts), not through the global validation pipe.
 */
export class TokenQueryDto {
  @ApiPropertyOptional(MIN_VALIDITY_DOC)
  minValidity?: number;

  @ApiPropertyOptional(USER_DOC)
  user?: string;

  // SPEC §15
  @ApiPropertyOptional(FORMAT_DOC)
  format?: SaslFormat;
}

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

/** Longer than any access token seen in practice (Microsoft's JWTs run to a few KiB). */
const MAX_ACCESS_TOKEN_LENGTH = 16_384;

/**
 * POST /v1/links/{id}/token/renew: the options of GET /token plus the token that was refused. A
 * JSON body, so (unlike the token route's query) it goes through the global validation pipe.
 */
export class RenewTokenDto {
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

  @ApiPropertyOptional(MIN_VALIDITY_DOC)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_MIN_VALIDITY_SECONDS)
  minValidity?: number;

  @ApiPropertyOptional(USER_DOC)
  @IsOptional()
  @IsString()
  @IsSaslUser()
  user?: string;

  @ApiPropertyOptional(FORMAT_DOC)
  @IsOptional()
  @IsIn(SASL_FORMATS)
  format?: SaslFormat;
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
