import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { loadConfig } from '../config/app-config.js';
import { createRootLogger, maskEmailAddresses, redactUrl } from './logging.js';

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

  it('masks the mailbox user of the token route, keeping the first character and the domain', () => {
    const query = queryOf(
      redactUrl('/v1/links/x/token?minValidity=60&user=alice.smith%40example.com&%75ser=support'),
    );
    expect(query.getAll('user')).toEqual(['a***@example.com', 's***']);
    expect(query.get('minValidity')).toBe('60');
    const redacted = redactUrl('/v1/links/x/token?user=alice.smith%40example.com');
    expect(redacted).not.toContain('alice');
    expect(redacted).not.toContain('smith');
  });

  it('leaves URLs without secrets alone', () => {
    expect(redactUrl('/v1/links/1b4e28ba-2fa1-41d2-883f-0016d3cca427/token')).toBe(
      '/v1/links/1b4e28ba-2fa1-41d2-883f-0016d3cca427/token',
    );
    expect(redactUrl('/health/live')).toBe('/health/live');
    expect(queryOf(redactUrl('/v1/links?limit=20&cursor=abc')).get('cursor')).toBe('abc');
  });
});

describe('maskEmailAddresses', () => {
  it('masks every e-mail address in a text and leaves the rest alone', () => {
    expect(
      maskEmailAddresses(
        'Refresh for bob.jones@example.com and <jörg+x@exämple.de> failed; see mailto:ops@corp.example.org.',
      ),
    ).toBe(
      'Refresh for b***@example.com and <j***@exämple.de> failed; see mailto:o***@corp.example.org.',
    );
    for (const text of [
      'no address here',
      'node_modules/@nestjs/core/index.js',
      'postgres://outlink@127.0.0.1:5432/outlink',
      'typeorm@0.3.20',
    ]) {
      expect(maskEmailAddresses(text)).toBe(text);
    }
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

  it('masks e-mail addresses in messages, their arguments and logged errors', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createRootLogger(loadConfig({ LOG_LEVEL: 'info' }), destination);
    logger.warn('Refresh for bob.jones@example.com failed');
    logger.info({ context: 'X' }, 'user %s refused', 'carol.white@example.com');
    logger.error({ err: new Error('mailbox dave.black@example.com is locked') }, 'boom');
    logger.child({ requestId: 'r1' }).warn('erin.green@example.com again');

    const text = lines.join('');
    for (const local of ['bob.jones', 'carol.white', 'dave.black', 'erin.green']) {
      expect(text).not.toContain(local);
    }
    for (const masked of [
      'b***@example.com',
      'c***@example.com',
      'd***@example.com',
      'e***@example.com',
    ])
      expect(text).toContain(masked);
    expect(lines).toHaveLength(4);
  });
});
