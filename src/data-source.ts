// The DataSource the TypeORM CLI uses (`npm run migration:generate`); the app builds its own.
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './database/data-source-options.js';
import { ENTITIES } from './entities.js';

export default new DataSource(
  dataSourceOptions(
    {
      url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      embedded: false,
    },
    ENTITIES,
  ),
);
