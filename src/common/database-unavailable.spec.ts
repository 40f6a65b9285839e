import { describe, expect, it } from '@jest/globals';
import { isDatabaseUnavailable } from './database-unavailable.js';

describe('isDatabaseUnavailable', () => {
  it('recognises connection failures, also wrapped by TypeORM', () => {
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    // The embedded database's unix socket is gone while it restarts.
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('connect ENOENT /data/.s.PGSQL.5432'), {
          code: 'ENOENT',
          syscall: 'connect',
        }),
      ),
    ).toBe(true);
    expect(isDatabaseUnavailable({ message: 'query failed', driverError: { code: '57P01' } })).toBe(
      true,
    );
    expect(isDatabaseUnavailable({ message: 'x', driverError: { code: '08006' } })).toBe(true);
    expect(
      isDatabaseUnavailable(
        new Error('outer', { cause: new Error('timeout exceeded when trying to connect') }),
      ),
    ).toBe(true);
  });

  it('leaves bugs and data errors alone', () => {
    expect(isDatabaseUnavailable(new Error('Cannot read properties of undefined'))).toBe(false);
    expect(
      isDatabaseUnavailable({ message: 'duplicate key', driverError: { code: '23505' } }),
    ).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
    // A missing file is a database outage only when it is the socket being connected to.
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('open ENOENT'), { code: 'ENOENT', syscall: 'open' }),
      ),
    ).toBe(false);
  });
});
