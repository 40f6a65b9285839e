import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';

export const AUTHORIZATION_METHODS = ['browser', 'device'] as const;
export type AuthorizationMethod = (typeof AUTHORIZATION_METHODS)[number];

/** The optional body of POST /v1/links/{id}/authorize. */
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

  @ApiPropertyOptional({
    default: false,
    description:
      'Accept consent by another account than the one the link is bound to (SPEC §12); without it such a ' +
      'consent is refused and the link stays as it was. Also leaves out the login_hint.',
  })
  @IsOptional()
  @IsBoolean()
  allowAccountChange?: boolean;
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
