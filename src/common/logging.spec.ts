import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { loadConfig } from '../config/app-config.js';
import { createRootLogger, redactUrl } from './logging.js';

function queryOf(url: string): URLSearchParams {
  return new URLSearchParams(url.split('?')[1] ?? '');
}

describe('redactUrl', () => {
  it('hides the values of code and state and keeps the path and other parameters', () => {
    const redacted = redactUrl(
      '/v1/oauth/callback?code=SECRET123&state=STATE456&iss=https%3A%2F%2Fissuer.example&session_state=abc',
    );
    expect(redacted).not.toContain('SECRET123');
    expect(redacted).not.toContain('STATE456');
    expect(redacted.startsWith('/v1/oauth/callback?')).toBe(true);
    const query = queryOf(redacted);
    expect(query.get('code')).toBe('[redacted]');
    expect(query.get('state')).toBe('[redacted]');
    expect(query.get('iss')).toBe('https://issuer.example');
    expect(query.get('session_state')).toBe('abc');
  });

  it('hides tokens and keys passed in a query string', () => {
    const redacted = redactUrl(
      '/x?access_token=AT1&refresh_token=RT1&id_token=IT1&key=olk_K1&limit=5',
    );
    for (const secret of ['AT1', 'RT1', 'IT1', 'olk_K1']) expect(redacted).not.toContain(secret);
    expect(queryOf(redacted).get('limit')).toBe('5');
  });

  it('hides every repetition and percent-encoded spellings of a secret parameter', () => {
    const redacted = redactUrl('/cb?code=FIRST&code=SECOND&%63ode=THIRD&st%61te=FOURTH');
    for (const secret of ['FIRST', 'SECOND', 'THIRD', 'FOURTH']) {
      expect(redacted).not.toContain(secret);
    }
  });

  it('leaves URLs without secrets alone', () => {
    expect(redactUrl('/v1/links/1b4e28ba-2fa1-41d2-883f-0016d3cca427/token')).toBe(
      '/v1/links/1b4e28ba-2fa1-41d2-883f-0016d3cca427/token',
    );
    expect(redactUrl('/health/live')).toBe('/health/live');
    expect(queryOf(redactUrl('/v1/links?limit=20&cursor=abc')).get('cursor')).toBe('abc');
  });
});

describe('createRootLogger', () => {
  it('redacts secret fields at the top level and one level down', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createRootLogger(loadConfig({ LOG_LEVEL: 'info' }), destination);
    logger.info({ clientSecret: 'CS1', link: { accessToken: 'AT2', refreshToken: 'RT2' } }, 'a');
    logger.info({ client_secret: 'CS3', adminApiKey: 'olk_ADMIN' }, 'c');

    const text = lines.join('');
    for (const secret of ['CS1', 'AT2', 'RT2', 'CS3', 'olk_ADMIN']) {
      expect(text).not.toContain(secret);
    }
    expect(text.match(/\[redacted\]/g)).toHaveLength(5);
  });
});
