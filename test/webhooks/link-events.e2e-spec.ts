import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectLink, createCustomLink, tokenOf } from '../support/connected-link.js';
import { authorizeWithPlainHttp } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer } from '../support/test-app.js';
import { startWebhookApp, type WebhookApp } from '../support/webhook-app.js';

/**
 * Issue 12 point 5: link events reach a real HTTP receiver on loopback, signed as Standard
 * Webhooks and verified with the `standardwebhooks` package, from a real oidc-provider's answers.
 */
describe(`webhooks announce what happens to links (${BACKEND})`, () => {
  let w: WebhookApp;

  beforeAll(async () => {
    w = await startWebhookApp();
  });
  afterAll(async () => {
    await w?.close();
  });

  const admin = () => bearer(w.t.adminKey);
  const typesAbout = (linkId: string): string[] =>
    w.messagesAbout(linkId).map((message) => message.type);
  /** Authorizes the link again, as an admin does after `link.reauthorization_required`. */
  async function reauthorize(linkId: string): Promise<void> {
    const started = await w.t.http().post(`/v1/links/${linkId}/authorize`).set(admin()).expect(201);
    const redirect = await authorizeWithPlainHttp(started.body.authorizationUrl as string);
    await w.t
      .http()
      .get(`${redirect.pathname}${redirect.search}`)
      .set('accept', 'application/json')
      .expect(200);
  }

  let revokedLinkId: string;

  it('a grant revoked at the provider produces exactly one link.reauthorization_required, signed', async () => {
    const { id } = await connectLink(w.t, w.provider);
    revokedLinkId = id;
    await w.waitForMessagesAbout(id, 1);
    expect(typesAbout(id)).toEqual(['link.connected']);

    await w.provider.revokeAllGrants();
    expect((await tokenOf(w.t, id).expect(409)).body.code).toBe('reauthorization_required');
    // Asking again calls no provider and changes nothing: no second announcement.
    expect((await tokenOf(w.t, id).expect(409)).body.code).toBe('reauthorization_required');
    await w.waitForMessagesAbout(id, 2);
    await w.settle();

    const messages = w.messagesAbout(id);
    expect(messages.map((message) => message.type)).toEqual([
      'link.connected',
      'link.reauthorization_required',
    ]);
    expect(messages[1].data).toEqual({
      linkId: id,
      linkName: 'Helpdesk',
      status: 'reauthorization_required',
      previousStatus: 'connected',
      reason: expect.any(String),
      actor: expect.any(String),
      action: expect.any(String),
    });
    const announced = (await w.deliveries()).filter(
      (delivery) => delivery.eventType === 'link.reauthorization_required',
    );
    expect(announced).toEqual([
      expect.objectContaining({ id: messages[1].id, status: 'delivered', attempts: 1, linkId: id }),
    ]);
  });

  it('authorizing the link again produces link.recovered', async () => {
    await reauthorize(revokedLinkId);
    await w.waitForMessagesAbout(revokedLinkId, 3);
    expect(w.messagesAbout(revokedLinkId)[2]).toMatchObject({
      type: 'link.recovered',
      data: {
        status: 'connected',
        previousStatus: 'reauthorization_required',
        actor: null,
        action: null,
      },
    });
  });

  it('a client the provider refuses produces link.error, and a new secret link.recovered', async () => {
    const { id } = await connectLink(w.t, w.provider);
    const patch = (clientSecret: string) =>
      w.t.http().patch(`/v1/links/${id}`).set(admin()).send({ clientSecret }).expect(200);
    await patch('wrong-secret');
    expect((await tokenOf(w.t, id).expect(409)).body.code).toBe('link_error');
    await patch(w.provider.clientSecret);
    await w.waitForMessagesAbout(id, 3);
    const messages = w.messagesAbout(id);
    expect(messages.map((message) => message.type)).toEqual([
      'link.connected',
      'link.error',
      'link.recovered',
    ]);
    expect(messages[1].data).toMatchObject({ status: 'error', previousStatus: 'connected' });
    expect(messages[2].data).toMatchObject({ status: 'connected', previousStatus: 'error' });
  });

  it('deleting a link produces link.deleted', async () => {
    const { id } = await createCustomLink(w.t, w.provider, { name: 'Short-lived' });
    await w.t.http().delete(`/v1/links/${id}`).set(admin()).expect(204);
    await w.waitForMessagesAbout(id, 1);
    expect(w.messagesAbout(id)).toEqual([
      expect.objectContaining({
        type: 'link.deleted',
        data: expect.objectContaining({
          linkName: 'Short-lived',
          status: null,
          previousStatus: 'pending_authorization',
        }),
      }),
    ]);
  });

  it('puts no secret in any delivery, payload or log line', async () => {
    const { id } = await connectLink(w.t, w.provider);
    const accessToken = (await tokenOf(w.t, id).expect(200)).body.accessToken as string;
    const everything = [
      JSON.stringify(await w.deliveries()),
      ...w.receiver.requests.map((request) => request.body),
      JSON.stringify((await w.t.http().get('/v1/webhooks').set(admin()).expect(200)).body),
      w.t.logs.text,
    ].join('\n');
    const secretBytes = w.webhook.secret.slice('whsec_'.length);
    for (const secret of [secretBytes, w.provider.clientSecret, accessToken])
      expect(everything).not.toContain(secret);
    // Nor does any header the receiver got (only an HMAC of the secret).
    expect(JSON.stringify(w.receiver.requests.map((request) => request.headers))).not.toContain(
      secretBytes,
    );
  });
});
