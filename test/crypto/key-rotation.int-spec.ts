import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { encryptionContext, type EncryptedColumn } from '../../src/crypto/encrypted-column.js';
import { KeyRing } from '../../src/crypto/key-ring.js';
import { type EncryptionKey } from '../../src/config/encryption-keys.js';
import { KeyRotationError, reencryptColumns } from '../../src/crypto/key-rotation.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { BACKEND, createTestDatabase, type TestDatabase } from '../support/test-database.js';

const PROBE: EncryptedColumn = { table: 'rotation_probe', idColumn: 'id', column: 'secret' };

function newKey(id: string): EncryptionKey {
  return { id, key: randomBytes(32) };
}

const keyA = newKey('a');
const keyB = newKey('b');

describe(`key rotation on ${BACKEND}`, () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await new DataSource(dataSourceOptions(database.target)).initialize();
    await dataSource.query('CREATE TABLE rotation_probe (id uuid PRIMARY KEY, secret text)');
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.dispose();
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM rotation_probe');
  });

  /** Inserts a row whose secret is encrypted by `ring` (or NULL), as a module would store it. */
  async function insert(ring: KeyRing, plaintext: string | null): Promise<string> {
    const id = randomUUID();
    const value = plaintext === null ? null : ring.encrypt(plaintext, encryptionContext(PROBE, id));
    await dataSource.query('INSERT INTO rotation_probe (id, secret) VALUES ($1, $2)', [id, value]);
    return id;
  }

  async function insertRaw(value: string): Promise<string> {
    const id = randomUUID();
    await dataSource.query('INSERT INTO rotation_probe (id, secret) VALUES ($1, $2)', [id, value]);
    return id;
  }

  async function storedValues(): Promise<Map<string, string | null>> {
    const rows = await dataSource.query<{ id: string; secret: string | null }[]>(
      'SELECT id::text AS id, secret FROM rotation_probe',
    );
    return new Map(rows.map((row) => [row.id, row.secret]));
  }

  it('re-encrypts every value under the current key, in batches, and leaves NULL alone', async () => {
    const oldRing = new KeyRing([keyA]);
    const newRing = new KeyRing([keyB]);
    const plaintexts = new Map<string, string>();
    for (let i = 0; i < 5; i += 1) {
      plaintexts.set(await insert(oldRing, `old-secret-${i}`), `old-secret-${i}`);
    }
    for (let i = 0; i < 2; i += 1) {
      plaintexts.set(await insert(newRing, `new-secret-${i}`), `new-secret-${i}`);
    }
    const nullId = await insert(oldRing, null);
    const before = await storedValues();

    // A batch size of 2 makes the 5 stale rows span three batches.
    const results = await reencryptColumns(dataSource, new KeyRing([keyB, keyA]), [PROBE], {
      batchSize: 2,
    });

    expect(results).toEqual([{ column: 'rotation_probe.secret', reencrypted: 5, skipped: 0 }]);
    const after = await storedValues();
    expect(after.get(nullId)).toBeNull();
    for (const [id, plaintext] of plaintexts) {
      const value = after.get(id) as string;
      expect(value.startsWith('enc:v1:b:')).toBe(true);
      // Only the new key is needed from now on: the old one can be removed.
      expect(newRing.decrypt(value, encryptionContext(PROBE, id))).toBe(plaintext);
      if (before.get(id)?.startsWith('enc:v1:b:')) expect(value).toBe(before.get(id));
    }

    const again = await reencryptColumns(dataSource, new KeyRing([keyB, keyA]), [PROBE]);
    expect(again).toEqual([{ column: 'rotation_probe.secret', reencrypted: 0, skipped: 0 }]);
    expect(await storedValues()).toEqual(after);
  });

  it('does not take an old key for the current one when the current id contains "_"', async () => {
    // With NOT LIKE 'enc:v1:k_1:%' the "_" would match the "x" of the old key's id.
    const oldKey = newKey('kx1');
    const currentKey = newKey('k_1');
    const id = await insert(new KeyRing([oldKey]), 'client-secret');

    const results = await reencryptColumns(dataSource, new KeyRing([currentKey, oldKey]), [PROBE]);

    expect(results[0].reencrypted).toBe(1);
    const value = (await storedValues()).get(id) as string;
    expect(new KeyRing([currentKey]).decrypt(value, encryptionContext(PROBE, id))).toBe(
      'client-secret',
    );
  });

  it('never overwrites a value the service wrote between the read and the write', async () => {
    const oldRing = new KeyRing([keyA]);
    const ids = [
      await insert(oldRing, 'secret-1'),
      await insert(oldRing, 'secret-2'),
      await insert(oldRing, 'secret-3'),
    ];
    const racedId = ids[1];
    // A replica not yet restarted with the new key refreshes the token of one row just after the
    // rotation read it: deterministic, because it runs right before the rotation's UPDATE.
    const writtenByService = oldRing.encrypt('refreshed', encryptionContext(PROBE, racedId));
    let raced = false;
    const racing = Object.create(dataSource) as DataSource;
    racing.query = (async (sql: string, parameters?: unknown[]) => {
      if (!raced && sql.startsWith('UPDATE') && parameters?.[0] === racedId) {
        raced = true;
        await dataSource.query('UPDATE rotation_probe SET secret = $2 WHERE id = $1', [
          racedId,
          writtenByService,
        ]);
      }
      return dataSource.query(sql, parameters);
    }) as DataSource['query'];

    const ring = new KeyRing([keyB, keyA]);
    const results = await reencryptColumns(racing, ring, [PROBE], { batchSize: 1 });

    expect(raced).toBe(true);
    expect(results).toEqual([{ column: 'rotation_probe.secret', reencrypted: 2, skipped: 1 }]);
    expect((await storedValues()).get(racedId)).toBe(writtenByService);

    // The next run picks up what the race left under the old key.
    expect(await reencryptColumns(dataSource, ring, [PROBE])).toEqual([
      { column: 'rotation_probe.secret', reencrypted: 1, skipped: 0 },
    ]);
    const value = (await storedValues()).get(racedId) as string;
    expect(new KeyRing([keyB]).decrypt(value, encryptionContext(PROBE, racedId))).toBe('refreshed');
  });

  it.each([
    ['encrypted under a key missing from the ring', () => new KeyRing([newKey('c')])],
    ['not an envelope at all', undefined],
  ])('fails on a value %s, naming table, column and row but not the value', async (_, ring) => {
    const value =
      ring === undefined
        ? 'legacy-plaintext-secret'
        : ring().encrypt('legacy-plaintext-secret', 'x:y:z');
    const badId = await insertRaw(value);

    const run = reencryptColumns(dataSource, new KeyRing([keyB, keyA]), [PROBE]);

    const error = await run.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(KeyRotationError);
    const message = (error as Error).message;
    expect(message).toContain('rotation_probe.secret');
    expect(message).toContain(badId);
    expect(message).not.toContain(value);
    expect(message).not.toContain('legacy-plaintext-secret');
    expect((await storedValues()).get(badId)).toBe(value);
  });

  it('fails on a value copied from another row, whose context no longer matches', async () => {
    const oldRing = new KeyRing([keyA]);
    const sourceId = await insert(oldRing, 'copied-secret');
    const copied = (await storedValues()).get(sourceId) as string;
    await dataSource.query('DELETE FROM rotation_probe');
    const targetId = await insertRaw(copied);

    await expect(reencryptColumns(dataSource, new KeyRing([keyB, keyA]), [PROBE])).rejects.toThrow(
      `Cannot re-encrypt rotation_probe.secret of row ${targetId}`,
    );
  });
});
