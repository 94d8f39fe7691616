import { expect } from 'vitest';
import { AllianceSdkError } from '../errors';

/** The SDK error a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<AllianceSdkError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AllianceSdkError);
    return error as AllianceSdkError;
  }
  throw new Error('expected a rejection');
}
