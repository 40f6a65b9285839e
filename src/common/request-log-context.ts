import { Global, Module, type DynamicModule } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request whose handling is running now, so that what a module logs through Nest's Logger
 * (a provider's error, a failed discovery) carries that request's id (the root logger's mixin
 * reads it; see logging.ts).
 *
 * On Node 20 an enabled AsyncLocalStorage makes V8 call async_hooks for every promise of the
 * process, whoever created it, and Nest's router makes a score of promises per request: a
 * fifth of a warm token request's CPU (issue 10, benchmarks/hot-path-profile.md). So the
 * storage is enabled only while some request is in a context, and disabled again when the last
 * one ends; routes that are synchronous in the common case (the token route answering from the
 * cache) enter it only when they go asynchronous. nestjs-pino's own context (runInContext) is
 * not used: its storage cannot be disabled from outside. On Node 22+ (AsyncContextFrame) the
 * storage costs nothing while idle and this counting is merely unnecessary.
 */
export class RequestLogContext {
  private readonly storage = new AsyncLocalStorage<string>();
  private active = 0;

  /** The id of the request being handled, or undefined outside any request context. */
  requestId(): string | undefined {
    return this.storage.getStore();
  }

  /** How many requests are in a context now (0 when the storage is disabled). */
  get activeRequests(): number {
    return this.active;
  }

  /**
   * Runs `work` in the context of `requestId`: everything it starts, synchronously or through
   * promises and callbacks, sees that id. Call the returned function when the request is over
   * (it is idempotent); the last one out disables the storage.
   */
  enter<T>(requestId: string, work: () => T): { result: T; exit: () => void } {
    this.active++;
    let exited = false;
    const exit = (): void => {
      if (exited) return;
      exited = true;
      if (--this.active === 0) this.storage.disable();
    };
    try {
      return { result: this.storage.run(requestId, work), exit };
    } catch (error) {
      exit();
      throw error;
    }
  }

  /** `work` in the context of `requestId` until the promise it returns settles. */
  async untilSettled<T>(requestId: string, work: () => Promise<T>): Promise<T> {
    const { result, exit } = this.enter(requestId, work);
    try {
      return await result;
    } finally {
      exit();
    }
  }
}

/** Makes the application's RequestLogContext (made with its root logger) injectable everywhere. */
@Global()
@Module({})
export class RequestLogContextModule {
  static forRoot(context: RequestLogContext): DynamicModule {
    return {
      module: RequestLogContextModule,
      providers: [{ provide: RequestLogContext, useValue: context }],
      exports: [RequestLogContext],
    };
  }
}

/**
 * On a route whose work is synchronous in the common case: the request enters the context only
 * when the route calls RequestLogContext.untilSettled (see the token route).
 */
export const LogContextOnDemand = (): MethodDecorator => RouteConfig({ logContextOnDemand: true });

export const entersLogContextOnDemand = (routeConfig: unknown): boolean =>
  (routeConfig as { logContextOnDemand?: boolean } | undefined)?.logContextOnDemand === true;
