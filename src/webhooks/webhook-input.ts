import type { FieldError } from '../common/app-error.js';
import { ALL_EVENTS } from './webhook-events.js';

/**
 * What class-validator cannot say about a new webhook: the URL's scheme and parts, and `"*"`
 * standing alone. Pure; the outbound policy (which resolves the host) is checked after it.
 *
 * @param allowInsecure - ALLOW_INSECURE_ENDPOINTS: plain http is allowed too
 */
export function webhookInputErrors(
  input: { url: string; events: string[] },
  allowInsecure: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  let url: URL | undefined;
  try {
    url = new URL(input.url);
  } catch {
    errors.push({ field: 'url', message: 'url must be an absolute URL' });
  }
  if (url) {
    const allowed = allowInsecure ? ['https:', 'http:'] : ['https:'];
    if (!allowed.includes(url.protocol)) {
      errors.push({
        field: 'url',
        message: allowInsecure
          ? 'url must be an http(s) URL'
          : 'url must be an https:// URL (http is allowed only with ALLOW_INSECURE_ENDPOINTS)',
      });
    } else if (url.username || url.password || url.hash) {
      // Credentials in the URL would be shown by every GET; receivers verify the signature instead.
      errors.push({ field: 'url', message: 'url must not contain credentials or a fragment' });
    }
  }
  if (input.events.includes(ALL_EVENTS) && input.events.length > 1) {
    errors.push({
      field: 'events',
      message: 'events: "*" already means every event; give it alone',
    });
  }
  return errors;
}
