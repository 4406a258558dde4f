/** The API error a call fails with; the test fails if the call is accepted (or fails otherwise). */
import assert from 'node:assert/strict';
import { ApiError } from '../../src/client/api-client';

export async function refusal(call: Promise<unknown>): Promise<ApiError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail('the call was accepted');
}
