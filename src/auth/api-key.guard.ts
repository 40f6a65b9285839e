import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { mayUseLink, type ApiKeyPrincipal } from './api-key-principal.js';
import { ApiKeysService } from './api-keys.service.js';
import { ALLOWS_CONSUMER, IS_PUBLIC, type AuthenticatedRequest } from './auth.decorators.js';
import { AuthErrors } from './auth.errors.js';
import { FailedAuthLimiter } from './failed-auth-limiter.js';
import { presentedKeyHash } from './presented-key-hash.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
/** Longer than any key we issue: refuse before hashing arbitrary amounts of input. */
const MAX_PRESENTED_KEY_LENGTH = 256;

/** What a route's decorators say about who may call it. */
interface RoutePolicy {
  isPublic: boolean;
  allowsConsumer: boolean;
}

/**
 * Deny by default (SPEC §3): every route needs an API key unless it says @Public(). Admin keys
 * may do everything; consumer keys only what says @AllowConsumer(), and only for granted links.
 *
 * It runs on every request, so it does the minimum there (issue 10): a route's policy is read
 * from its metadata once, and a cached key is checked without a promise.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  /** Per handler; decorators cannot change after start-up. */
  private readonly policies = new WeakMap<object, RoutePolicy>();

  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    private readonly failedAuth: FailedAuthLimiter,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const policy = this.policyOf(context);
    if (policy.isPublic) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (presented === undefined) throw AuthErrors.missingKey();
    if (presented.length > MAX_PRESENTED_KEY_LENGTH) this.refuse(request);
    const principal = this.apiKeys.authenticate(presentedKeyHash(request.raw.socket, presented));
    if (!(principal instanceof Promise)) return this.authorize(request, principal, policy);
    return principal.then((found) => {
      if (found === undefined) this.refuse(request);
      return this.authorize(request, found, policy);
    });
  }

  private policyOf(context: ExecutionContext): RoutePolicy {
    const handler = context.getHandler();
    let policy = this.policies.get(handler);
    if (policy === undefined) {
      policy = {
        isPublic:
          this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, context.getClass()]) ===
          true,
        allowsConsumer: this.reflector.get<boolean>(ALLOWS_CONSUMER, handler) === true,
      };
      this.policies.set(handler, policy);
    }
    return policy;
  }

  /** An unknown key. The key is checked first (SPEC §11): only failed attempts are ever refused as too many. */
  private refuse(request: AuthenticatedRequest): never {
    // request.ip is the forwarded client address when TRUST_PROXY trusts the proxy.
    const retryAfter = this.failedAuth.recordFailure(request.ip);
    throw retryAfter > 0 ? AuthErrors.tooManyFailures(retryAfter) : AuthErrors.invalidKey();
  }

  private authorize(
    request: AuthenticatedRequest,
    principal: ApiKeyPrincipal,
    policy: RoutePolicy,
  ): boolean {
    request.apiKey = principal;
    if (principal.role === 'admin') return true;
    if (!policy.allowsConsumer) throw AuthErrors.adminOnly();
    const linkId = (request.params as Record<string, string | undefined>).id;
    if (linkId === undefined || !mayUseLink(principal, linkId)) throw AuthErrors.linkNotGranted();
    return true;
  }
}
