import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { KeyRing } from './key-ring.js';

/**
 * Provides the one {@link KeyRing} built from `ENCRYPTION_KEYS`. Global because every module that
 * stores a secret needs it, and keys come only from config (STYLE: security defaults).
 */
@Global()
@Module({
  providers: [
    {
      provide: KeyRing,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new KeyRing(config.encryptionKeys),
    },
  ],
  exports: [KeyRing],
})
export class CryptoModule {}
