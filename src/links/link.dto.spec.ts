import { describe, expect, it } from '@jest/globals';
import 'reflect-metadata';
import { StrictValidationPipe } from '../common/validation.js';
import { CreateLinkDto, UpdateLinkDto } from './link.dto.js';

const pipe = new StrictValidationPipe();
const fieldsRefused = async (metatype: new () => object, body: object): Promise<string[]> => {
  try {
    await pipe.transform(body, { type: 'body', metatype });
    return [];
  } catch (error) {
    return ((error as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field);
  }
};

describe('link DTOs', () => {
  it('require name, provider and clientId on create (an empty body passed and was a 500)', async () => {
    expect(new Set(await fieldsRefused(CreateLinkDto, {}))).toEqual(
      new Set(['name', 'provider', 'clientId']),
    );
  });

  it('take any subset of the fields on update, still validated', async () => {
    expect(await fieldsRefused(UpdateLinkDto, {})).toEqual([]);
    expect(await fieldsRefused(UpdateLinkDto, { clientSecret: null, tenant: 'common' })).toEqual(
      [],
    );
    expect(await fieldsRefused(UpdateLinkDto, { name: 5, pkce: 'yes' })).toEqual(
      expect.arrayContaining(['name', 'pkce']),
    );
  });
});
