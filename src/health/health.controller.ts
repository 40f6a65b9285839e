import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators.js';
import { AppError } from '../common/app-error.js';
import { ApiProblemResponses } from '../common/api-problem-responses.js';

const CHECK_TIMEOUT_MS = 2_000;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
  ) {}

  /** The process is up and serving HTTP; says nothing about its dependencies. */
  @Get('live')
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  getLiveness(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready for traffic: the database answers and every migration is applied. */
  @Get('ready')
  @ApiOkResponse({ description: 'Ready' })
  @ApiProblemResponses(503)
  async getReadiness(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.database.pingCheck('database').withTimeout(CHECK_TIMEOUT_MS),
        () =>
          this.indicators
            .check('migrations')
            .attempt(async () => {
              if (await this.dataSource.showMigrations()) throw new Error('migrations pending');
            })
            .withTimeout(CHECK_TIMEOUT_MS),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      const failing = Object.keys(result.error ?? {}).join(', ') || 'unknown';
      throw new AppError('service_unavailable', `Not ready: ${failing} check failed.`, {
        headers: { 'retry-after': '5' },
      });
    }
  }
}
