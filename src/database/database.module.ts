import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ChangeNotifications } from './change-notifications.js';
import { DATABASE_TARGET, dataSourceOptions, type DatabaseTarget } from './data-source-options.js';
import { runMigrationsExclusively } from './migration-runner.js';

export { DATABASE_TARGET };

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(target: DatabaseTarget): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSourceOptions(target), autoLoadEntities: true }),
          // Migrations run before the DataSource is handed to anyone, so no provider ever sees
          // an old schema.
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            await runMigrationsExclusively(dataSource);
            return dataSource;
          },
        }),
      ],
      providers: [{ provide: DATABASE_TARGET, useValue: target }, ChangeNotifications],
      exports: [DATABASE_TARGET, ChangeNotifications],
    };
  }
}
