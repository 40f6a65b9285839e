import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { decodeCursor, toPage } from '../common/cursor.js';
import { AppConfig } from '../config/app-config.js';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { WEBHOOK_SECRET } from '../database/encrypted-columns.js';
import { OutboundPolicy } from '../outbound/outbound-policy.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { testPayload } from './webhook-events.js';
import { webhookInputErrors } from './webhook-input.js';
import { WebhookOutbox } from './webhook-outbox.js';
import type { CreateWebhookDto } from './webhook.dto.js';
import { WebhookEntity } from './webhook.entity.js';
import { WebhookErrors } from './webhooks.errors.js';

/** Standard Webhooks secrets: `whsec_` and base64 of 24 to 64 random bytes; 32 here. */
const SECRET_BYTES = 32;

/** Webhooks CRUD, the test route and the delivery log (SPEC §13). */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectRepository(WebhookEntity) private readonly webhooks: Repository<WebhookEntity>,
    @InjectRepository(WebhookDeliveryEntity)
    private readonly deliveries: Repository<WebhookDeliveryEntity>,
    private readonly keyRing: KeyRing,
    private readonly policy: OutboundPolicy,
    private readonly outbox: WebhookOutbox,
    private readonly config: AppConfig,
  ) {}

  /**
   * @returns the webhook and its signing secret, which is shown this once
   * @throws validation_failed; endpoint_not_allowed when the URL's host is not public
   */
  async create(
    input: CreateWebhookDto,
    actor: string,
  ): Promise<{ webhook: WebhookEntity; secret: string }> {
    const errors = webhookInputErrors(input, this.config.allowInsecureEndpoints);
    if (errors.length > 0) throw WebhookErrors.invalid(errors);
    // Checked again on the address of every connection (OutboundHttp): DNS may change.
    const refusal = await this.policy.refusalFor(new URL(input.url));
    if (refusal) throw WebhookErrors.urlNotAllowed(refusal.message);

    const id = randomUUID();
    const secret = `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
    await this.webhooks.insert({
      id,
      url: input.url,
      events: input.events,
      description: input.description ?? null,
      secretEncrypted: this.keyRing.encrypt(secret, encryptionContext(WEBHOOK_SECRET, id)),
      status: 'active',
      disabledAt: null,
      disabledReason: null,
      createdBy: actor,
      createdAt: new Date(),
    });
    return { webhook: await this.get(id), secret };
  }

  list(): Promise<WebhookEntity[]> {
    return this.webhooks.find({ order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** @throws not_found */
  async get(id: string): Promise<WebhookEntity> {
    const webhook = await this.webhooks.findOneBy({ id });
    if (!webhook) throw WebhookErrors.notFound();
    return webhook;
  }

  /** Deletes the webhook with its delivery log; what was not sent yet never will be. */
  async delete(id: string): Promise<void> {
    const result = await this.webhooks.delete({ id });
    if (!result.affected) throw WebhookErrors.notFound();
  }

  /**
   * Queues a `webhook.test` delivery through the outbox, like any event.
   * @throws not_found; conflict when the webhook is disabled
   */
  async sendTest(id: string): Promise<WebhookDeliveryEntity> {
    const deliveryId = await this.webhooks.manager.transaction(async (manager) => {
      const queued = await this.outbox.enqueueTest(manager, id, testPayload(id, new Date()));
      if (queued === undefined) {
        const webhook = await manager.findOneBy(WebhookEntity, { id });
        throw webhook ? WebhookErrors.disabled() : WebhookErrors.notFound();
      }
      return queued;
    });
    return this.deliveries.findOneByOrFail({ id: deliveryId });
  }

  /** The delivery log, newest first. @throws not_found for an unknown webhook */
  async listDeliveries(
    webhookId: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ items: WebhookDeliveryEntity[]; nextCursor: string | null }> {
    await this.get(webhookId);
    const query = this.deliveries
      .createQueryBuilder('delivery')
      .where('delivery.webhook_id = :webhookId', { webhookId })
      .orderBy('delivery.created_at', 'DESC')
      .addOrderBy('delivery.id', 'DESC')
      .take(limit + 1);
    if (cursor !== undefined) {
      const position = decodeCursor(cursor);
      query.andWhere('(delivery.created_at, delivery.id) < (:at, :id)', {
        at: position.at,
        id: position.id,
      });
    }
    return toPage(await query.getMany(), limit, (delivery) => delivery.createdAt);
  }
}
