import { ApiProperty } from '@nestjs/swagger';

export class RedirectUrlResponseDto {
  @ApiProperty({
    description:
      "Copy this into the provider's console as the redirect URI: $PUBLIC_BASE_URL/v1/oauth/callback.",
    example: 'https://outlink.example.com/v1/oauth/callback',
  })
  redirectUrl: string;

  @ApiProperty({
    type: [String],
    description: 'What providers will refuse about this URL, and how to fix it; empty when none.',
    example: [],
  })
  warnings: string[];
}
