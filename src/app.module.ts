import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { AuthModule } from './auth/auth.module.js';
import { loggerParams } from './common/logging.js';
import { RequestLogContext, RequestLogContextModule } from './common/request-log-context.js';
import { ProblemDetailsFilter } from './common/problem-details.filter.js';
import { StrictValidationPipe } from './common/validation.js';
import { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { CryptoModule } from './crypto/crypto.module.js';
import type { DatabaseTarget } from './database/data-source-options.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { LinksModule } from './links/links.module.js';
import { OAuthModule } from './oauth/oauth.module.js';
import { TokensModule } from './tokens/tokens.module.js';
import { ProvidersModule } from './providers/providers.module.js';
// SPEC §13 webhooks
import { WebhooksModule } from './webhooks/webhooks.module.js';
// SPEC §12 mail check
import { MailModule } from './mail/mail.module.js';

/** What the process resolved before Nest starts: the validated config and where the data lives. */
export interface AppRuntime {
  config: AppConfig;
  database: DatabaseTarget;
}

interface AppModuleOptions extends AppRuntime {
  logger: PinoLogger;
  logContext: RequestLogContext;
}

@Module({})
export class AppModule {
  static forRoot(runtime: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(runtime.config),
        LoggerModule.forRoot(loggerParams(runtime.logger)),
        RequestLogContextModule.forRoot(runtime.logContext),
        DatabaseModule.forRoot(runtime.database),
        ScheduleModule.forRoot(),
        CryptoModule,
        MetricsModule,
        HealthModule,
        AuthModule,
        ProvidersModule,
        LinksModule,
        OAuthModule,
        TokensModule,
        // SPEC §13 webhooks
        WebhooksModule,
        // SPEC §12 mail check
        MailModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_PIPE, useClass: StrictValidationPipe },
      ],
    };
  }
}
