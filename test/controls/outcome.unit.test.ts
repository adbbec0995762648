import { describe, expect, it } from 'vitest';
import { ControlCheckError, errorOutcome, outcome } from '../../lib/controls/outcome.ts';

describe('outcome and errorOutcome', () => {
  it('has no warnings unless given some', () => {
    expect(outcome({ figures: {}, details: null }).warnings).toEqual([]);
    expect(outcome({ figures: {}, details: null, warnings: ['w'] }).warnings).toEqual(['w']);
  });

  it('makes an error outcome with the one reason and nothing else', () => {
    expect(errorOutcome('could not connect')).toEqual({
      verdict: 'error',
      reasons: ['could not connect'],
      warnings: [],
      figures: {},
      details: null,
    });
    expect(errorOutcome('x', { tried: 1 }).details).toEqual({ tried: 1 });
  });

  it('names ControlCheckError and keeps its cause', () => {
    const cause = new Error('socket closed');
    const error = new ControlCheckError('the check could not run', { cause });
    expect(error.name).toBe('ControlCheckError');
    expect(error.cause).toBe(cause);
  });
});
