import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_SASL_USER_LENGTH } from './sasl.js';
import { DEFAULT_MIN_VALIDITY_SECONDS, MAX_MIN_VALIDITY_SECONDS } from './token-query.js';

/**
 * The token route's query, for the OpenAPI document only: the route parses it with
 * parseTokenQuery (token-query.ts), not through the global validation pipe.
 */
export class TokenQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_MIN_VALIDITY_SECONDS,
    default: DEFAULT_MIN_VALIDITY_SECONDS,
    description: 'Seconds the token must stay valid',
  })
  minValidity?: number;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: MAX_SASL_USER_LENGTH,
    example: 'alice@example.com',
    description:
      'Adds `xoauth2` and `oauthbearer` for this mailbox user: an e-mail address or a plain login, without ' +
      'whitespace or control characters',
  })
  user?: string;
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
}
