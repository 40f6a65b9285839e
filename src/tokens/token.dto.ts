import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsOptional, Max, MaxLength, Min } from 'class-validator';

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
    maxLength: 320,
    example: 'alice@example.com',
    description: 'Adds `xoauth2` for this mailbox user',
  })
  @IsOptional()
  @MaxLength(320)
  @IsEmail({ allow_utf8_local_part: true, require_tld: false })
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
}
