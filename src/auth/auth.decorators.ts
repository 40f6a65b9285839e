import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ApiKeyPrincipal } from './api-key-principal.js';

export const IS_PUBLIC = 'outlink:isPublic';
export const ALLOWS_CONSUMER = 'outlink:allowsConsumer';

/** Marks a route that needs no API key (health, the OAuth callback). Everything else does. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/**
 * Lets consumer keys call this route too, for the link named by the `:id` path parameter only
 * when the key is granted that link. Without it a route is admin-only.
 */
export const AllowConsumer = (): MethodDecorator => SetMetadata(ALLOWS_CONSUMER, true);

export type AuthenticatedRequest = FastifyRequest & { apiKey?: ApiKeyPrincipal };

/** The API key that made the request (set by the global ApiKeyGuard). */
export const CurrentApiKey = createParamDecorator(
  (_data: unknown, context: ExecutionContext): ApiKeyPrincipal | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().apiKey,
);
