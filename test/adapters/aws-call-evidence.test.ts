import { describe, expect, it } from 'vitest';
import {
  type AwsCall,
  classifyAwsError,
  recordAwsCall,
  recordAwsLookup,
} from '../../lib/adapters/aws-call-evidence.ts';
import { ControlCheckError, EvidenceLog } from '../../lib/controls/outcome.ts';

const named = (name: string, message = 'from AWS') => Object.assign(new Error(message), { name });

function call(evidence: EvidenceLog): AwsCall {
  return {
    evidence,
    label: 'access keys of ci',
    service: 'iam',
    operation: 'ListAccessKeys',
    request: { UserName: 'ci' },
    doing: 'listing access keys of IAM user ci',
  };
}

describe('recordAwsCall', () => {
  it('records the shaped response of a successful call and returns the result', async () => {
    const evidence = new EvidenceLog();
    const result = await recordAwsCall(
      call(evidence),
      async () => [1, 2],
      (keys) => ({ count: keys.length }),
    );
    expect(result).toEqual([1, 2]);
    expect(evidence.entries).toEqual([
      expect.objectContaining({
        kind: 'api',
        service: 'iam',
        operation: 'ListAccessKeys',
        request: { UserName: 'ci' },
        response: { count: 2 },
      }),
    ]);
  });

  it.each([
    ['AccessDenied', 'listing access keys of IAM user ci: access denied (iam:ListAccessKeys)'],
    ['AccessDeniedException', 'listing access keys of IAM user ci: access denied (iam:ListAccessKeys)'],
    ['ThrottlingException', 'listing access keys of IAM user ci: ThrottlingException: from AWS'],
    // Not found is a failure here (the caller did not say it is an answer).
    ['NoSuchEntity', 'listing access keys of IAM user ci: not found'],
  ])('records a %s error and throws ControlCheckError naming it', async (name, message) => {
    const evidence = new EvidenceLog();
    const attempt = recordAwsCall(
      call(evidence),
      () => Promise.reject(named(name)),
      () => 'unused',
    );
    await expect(attempt).rejects.toThrow(new ControlCheckError(message));
    await expect(attempt).rejects.toHaveProperty('cause.name', name);
    expect(evidence.entries).toEqual([
      expect.objectContaining({ response: { error: name, reason: message.split(': ').slice(1).join(': ') } }),
    ]);
  });

  it('names the action it was given, and uses a not-found reason it was given', async () => {
    const evidence = new EvidenceLog();
    const s3 = { ...call(evidence), service: 's3', operation: 'ListObjectsV2', action: 's3:ListBucket' };
    await expect(
      recordAwsCall(
        s3,
        () => Promise.reject(named('Forbidden')),
        () => 0,
      ),
    ).rejects.toThrow('access denied (s3:ListBucket)');
    await expect(
      recordAwsCall(
        s3,
        () => Promise.reject(named('DBInstanceNotFoundFault')),
        () => 0,
        {
          notFoundReason: 'no longer exists',
        },
      ),
    ).rejects.toThrow('listing access keys of IAM user ci: no longer exists');
  });

  it('survives a thrown non-Error', async () => {
    const evidence = new EvidenceLog();
    await expect(
      recordAwsCall(
        call(evidence),
        () => Promise.reject('boom'),
        () => 0,
      ),
    ).rejects.toThrow('Error: boom');
  });
});

describe('recordAwsLookup', () => {
  it('returns undefined and records the not-found answer', async () => {
    const evidence = new EvidenceLog();
    const result = await recordAwsLookup(
      call(evidence),
      () => Promise.reject(named('NoSuchEntityException')),
      () => 0,
    );
    expect(result).toBeUndefined();
    expect(evidence.entries).toEqual([
      expect.objectContaining({ response: { error: 'NoSuchEntityException' } }),
    ]);
  });

  it('still fails on access denied: an unreadable resource is not an absent one', async () => {
    const evidence = new EvidenceLog();
    await expect(
      recordAwsLookup(
        call(evidence),
        () => Promise.reject(named('AccessDeniedException')),
        () => 0,
      ),
    ).rejects.toBeInstanceOf(ControlCheckError);
  });
});

describe('classifyAwsError', () => {
  it.each([
    ['NoSuchBucket', 'not-found', 'the bucket does not exist'],
    ['NoSuchKey', 'not-found', 'the object no longer exists'],
    ['ResourceNotFoundException', 'not-found', 'not found'],
    ['DBClusterNotFoundFault', 'not-found', 'not found'],
    ['UnauthorizedOperation', 'access-denied', 'access denied (x:Y)'],
    ['InternalError', 'other', 'InternalError: from AWS'],
  ])('%s is %s', (name, kind, reason) => {
    expect(classifyAwsError(named(name), 'x:Y')).toEqual({ name, kind, reason });
  });
});
