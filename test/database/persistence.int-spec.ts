import { describe, expect, it } from '@jest/globals';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp } from '../support/test-app.js';

describe(`a restart keeps every row (${BACKEND})`, () => {
  it('serves the same API keys after the app and its database restart', async () => {
    const first = await startTestApp();
    const { database, adminKey } = first;
    try {
      const created = await first
        .http()
        .post('/v1/api-keys')
        .set(bearer(adminKey))
        .send({
          name: 'survives restarts',
          role: 'consumer',
          linkIds: ['1b4e28ba-2fa1-41d2-883f-0016d3cca427'],
        })
        .expect(201);
      await first.closeApp();
      await database.stop();
      await database.restart();

      const second = await startTestApp({ database, env: { ADMIN_API_KEY: adminKey } });
      try {
        const listed = await second
          .http()
          .get('/v1/api-keys')
          .set(bearer(created.body.key))
          .expect(403);
        expect(listed.body.code).toBe('forbidden'); // the consumer key still authenticates
        const all = await second.http().get('/v1/api-keys').set(bearer(adminKey)).expect(200);
        expect(all.body.items).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              id: created.body.id,
              name: 'survives restarts',
              linkIds: ['1b4e28ba-2fa1-41d2-883f-0016d3cca427'],
            }),
          ]),
        );
      } finally {
        await second.closeApp();
      }
    } finally {
      await database.dispose();
    }
  });
});
