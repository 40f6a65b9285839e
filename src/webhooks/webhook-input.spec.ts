import { describe, expect, it } from '@jest/globals';
import { webhookInputErrors } from './webhook-input.js';
import { outcomeOfAnswer } from './webhook-sender.js';

describe('webhookInputErrors', () => {
  const events = ['link.error'];
  it('accepts https, and http only with ALLOW_INSECURE_ENDPOINTS', () => {
    expect(
      webhookInputErrors({ url: 'https://alerts.example.com/hook?x=1', events }, false),
    ).toEqual([]);
    expect(webhookInputErrors({ url: 'http://alerts.example.com/hook', events }, true)).toEqual([]);
    expect(webhookInputErrors({ url: 'http://alerts.example.com/hook', events }, false)).toEqual([
      {
        field: 'url',
        message: 'url must be an https:// URL (http is allowed only with ALLOW_INSECURE_ENDPOINTS)',
      },
    ]);
  });

  it.each([
    ['not a url', 'url must be an absolute URL'],
    ['/relative', 'url must be an absolute URL'],
    ['ftp://alerts.example.com/', 'url must be an http(s) URL'],
    ['javascript:alert(1)', 'url must be an http(s) URL'],
    ['https://user:pw@alerts.example.com/', 'url must not contain credentials or a fragment'],
    ['https://alerts.example.com/#x', 'url must not contain credentials or a fragment'],
  ])('refuses %s', (url, message) => {
    expect(webhookInputErrors({ url, events }, true)).toEqual([{ field: 'url', message }]);
  });

  it('wants "*" alone', () => {
    expect(webhookInputErrors({ url: 'https://a.example/', events: ['*'] }, false)).toEqual([]);
    expect(
      webhookInputErrors({ url: 'https://a.example/', events: ['*', 'link.error'] }, false),
    ).toEqual([{ field: 'events', message: expect.stringContaining('alone') }]);
  });
});

describe('outcomeOfAnswer', () => {
  it.each([200, 201, 202, 204, 299])('%i is delivered', (status) => {
    expect(outcomeOfAnswer(status)).toEqual({ kind: 'delivered', statusCode: status });
  });
  it('410 disables the webhook', () => {
    expect(outcomeOfAnswer(410)).toEqual({ kind: 'gone', statusCode: 410 });
  });
  it.each([400, 401, 404, 408, 429, 500, 502, 503])('%i is retried', (status) => {
    expect(outcomeOfAnswer(status, 30)).toEqual({
      kind: 'failed',
      statusCode: status,
      error: `The receiver answered HTTP ${status}.`,
      retryAfterSeconds: 30,
    });
  });
});
