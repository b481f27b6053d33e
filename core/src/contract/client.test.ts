import { describe, expect, it } from 'vitest';
import { apiClient } from './client.js';
import { ErrorCodes, fail, ok, SwitchyardError } from './errors.js';

describe('apiClient', () => {
  it('hands the method and input to the transport and answers the value', async () => {
    const seen: unknown[] = [];
    const client = apiClient(async (method, input) => (seen.push([method, input]), ok({ split: 30 })));
    await expect(client.call('serving.setSplit', { split: 30 })).resolves.toEqual({ split: 30 });
    expect(seen).toEqual([['serving.setSplit', { split: 30 }]]);
  });

  it('throws an error value as a SwitchyardError with its code, message and where', async () => {
    const client = apiClient(async () => fail(ErrorCodes.SWY_ERR_CONFLICT, 'production moved', 'expectedProduction'));
    const e = await client.call('lifecycle.rollback', { policy: 'p' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SwitchyardError);
    expect(e).toMatchObject({ code: 'SWY_ERR_CONFLICT', message: 'production moved', where: 'expectedProduction' });
  });
});
