import type { LinkLastError } from '../links/link.entity.js';
import type { TokenSet } from '../providers/provider-client.types.js';
import { NO_REFRESH_TOKEN } from '../providers/provider-failures.js';
import { getProviderPreset, type ProviderId } from '../providers/provider-preset.js';

/**
 * The lastError a new grant leaves on its link: none, or, when the provider issued no refresh
 * token, what the admin should change (the preset's advice). Shared by every way of authorizing.
 */
export function grantLastError(
  provider: string,
  tokens: TokenSet,
  now: Date = new Date(),
): { advice: string | null; lastError: LinkLastError | null } {
  if (tokens.refreshToken) return { advice: null, lastError: null };
  const advice = getProviderPreset(provider as ProviderId).missingRefreshTokenAdvice;
  return {
    advice,
    lastError: {
      code: 'no_refresh_token',
      message: `The provider issued no refresh token. ${advice}`,
      at: now.toISOString(),
      ...NO_REFRESH_TOKEN,
    },
  };
}
