import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { mayUseLink } from './api-key-principal.js';
import { ApiKeysService } from './api-keys.service.js';
import { ALLOWS_CONSUMER, IS_PUBLIC, type AuthenticatedRequest } from './auth.decorators.js';
import { AuthErrors } from './auth.errors.js';
import { FailedAuthLimiter } from './failed-auth-limiter.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
/** Longer than any key we issue: refuse before hashing arbitrary amounts of input. */
const MAX_PRESENTED_KEY_LENGTH = 256;

/**
 * Deny by default (SPEC §3): every route needs an API key unless it says @Public(). Admin keys
 * may do everything; consumer keys only what says @AllowConsumer(), and only for granted links.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    private readonly failedAuth: FailedAuthLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (presented === undefined) throw AuthErrors.missingKey();
    const principal =
      presented.length <= MAX_PRESENTED_KEY_LENGTH
        ? await this.apiKeys.authenticate(presented)
        : undefined;
    if (!principal) {
      // The key is checked first (SPEC §11): only failed attempts are ever refused as too many.
      // request.ip is the forwarded client address when TRUST_PROXY trusts the proxy.
      const retryAfter = this.failedAuth.recordFailure(request.ip);
      throw retryAfter > 0 ? AuthErrors.tooManyFailures(retryAfter) : AuthErrors.invalidKey();
    }
    request.apiKey = principal;

    if (principal.role === 'admin') return true;
    if (!this.reflector.get<boolean>(ALLOWS_CONSUMER, context.getHandler()))
      throw AuthErrors.adminOnly();
    const linkId = (request.params as Record<string, string | undefined>).id;
    if (linkId === undefined || !mayUseLink(principal, linkId)) throw AuthErrors.linkNotGranted();
    return true;
  }
}
