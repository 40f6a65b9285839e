import { Module } from '@nestjs/common';
import { ProvidersController } from './providers.controller.js';

/** The presets are plain data (provider-preset.ts); other modules import them directly. */
@Module({
  controllers: [ProvidersController],
})
export class ProvidersModule {}
