import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, parseConfigYaml } from '../../lib/config/load-config.ts';
import type { ConfigInput } from '../../lib/config/schema.ts';
import { formatPath } from '../../lib/shared/parse.ts';
import { CADENCES } from '../../lib/shared/period.ts';
import { securityOwner } from '../support/config-fixture.ts';

/** A small valid config; each test breaks one thing in a copy. */
function validConfig(): ConfigInput {
  return {
    timeZone: 'UTC',
    owners: [
      securityOwner,
      { id: 'devops', name: 'DevOps', email: 'devops@example.com', slackChannel: '#devops' },
    ],
    targets: [{ name: 'app', connection: { env: 'DATABASE_URL' } }],
    controls: [0, 1, 2].map((index) => ({
      id: `control-${index}`,
      title: `Control ${index}`,
      criteria: ['CC7.2'],
      cadence: 'monthly' as const,
      owner: 'security',
      test: { type: 'log-completeness' as const, target: 'app' },
    })),
  };
}

/** The issues a config raises, or a failed expectation if it parses. */
function issuesOf(raw: unknown): readonly string[] {
  try {
    parseConfig(raw, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  expect.fail('expected the configuration to be rejected');
}

function yamlIssuesOf(text: string): readonly string[] {
  try {
    parseConfigYaml(text, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  expect.fail('expected the YAML to be rejected');
}

function mutate(change: (config: Record<string, unknown> & ConfigInput) => void): unknown {
  const config = structuredClone(validConfig()) as Record<string, unknown> & ConfigInput;
  change(config);
  return config;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'soc2-config-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the example soc2-evidence.yaml', () => {
  it('loads and validates', async () => {
    const config = await loadConfig('soc2-evidence.yaml');
    expect(config.owners.length).toBeGreaterThan(0);
    expect(config.controls.length).toBeGreaterThan(0);
    const ownerIds = new Set(config.owners.map((owner) => owner.id));
    for (const control of config.controls) {
      expect(ownerIds.has(control.owner)).toBe(true);
      expect(CADENCES).toContain(control.cadence);
      expect(control.criteria.length).toBeGreaterThan(0);
    }
  });

  it('declares the monthly audit-log completeness control for CC7.2 with its defaults filled in', async () => {
    const config = await loadConfig('soc2-evidence.yaml');
    const control = config.controls.find((candidate) => candidate.test.type === 'log-completeness');
    expect(control?.cadence).toBe('monthly');
    expect(control?.criteria).toContain('CC7.2');
    if (control?.test.type !== 'log-completeness') expect.fail('no log-completeness control');
    expect(control.test.columns.timestamp).toBe('timestamp');
    expect(config.targets.map((target) => target.name)).toContain(control.test.target);
  });

  it('keeps connection strings out of the file', async () => {
    const config = await loadConfig('soc2-evidence.yaml');
    expect(JSON.stringify(config)).not.toMatch(/postgres(ql)?:\/\//i);
  });
});

describe('loadConfig', () => {
  it('applies the documented defaults to a minimal file', async () => {
    const path = join(dir, 'minimal.yaml');
    await writeFile(
      path,
      [
        'owners: [{ id: sec, name: Security, email: sec@example.com }]',
        'targets: [{ name: app, connection: { env: DATABASE_URL } }]',
        'controls:',
        '  - { id: logs, title: Logs, criteria: [CC7.2], cadence: monthly, owner: sec, test: { type: log-completeness, target: app } }',
      ].join('\n'),
    );
    const config = await loadConfig(path);
    expect(config.timeZone).toBe('UTC');
    expect(config.targets[0]?.statementTimeoutMs).toBe(30_000);
    expect(config.evidence).toEqual({
      retentionYears: 7,
      objectLockMode: 'COMPLIANCE',
      archiveAfterDays: 365,
    });
    expect(config.controls[0]?.test).toMatchObject({
      schema: 'public',
      table: 'audit_log',
      maxSilence: 'PT1H',
      retention: 'P365D',
      requiredActions: [],
    });
  });

  it('fails with the path and the cause when the file is missing', async () => {
    const path = join(dir, 'does-not-exist.yaml');
    const error = await loadConfig(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).name).toBe('ConfigError');
    expect((error as ConfigError).source).toBe(path);
    expect((error as ConfigError).issues).toEqual(['cannot read the file: ENOENT']);
    expect((error as Error).message).toContain(path);
    expect((error as Error).cause).toBeDefined();
  });

  it('reads a risk register kept in its own file relative to the config, and names it when missing', async () => {
    const path = join(dir, 'with-register.yaml');
    await writeFile(
      path,
      [
        'riskRegister: registers/risks.yaml',
        'owners: [{ id: sec, name: Security, email: sec@example.com }]',
        'controls:',
        '  - { id: logs, title: Logs, criteria: [CC7.2], cadence: monthly, owner: sec, test: { type: log-completeness, target: app } }',
        'targets: [{ name: app, connection: { env: DATABASE_URL } }]',
      ].join('\n'),
    );
    const error = await loadConfig(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).source).toBe(join(dir, 'registers', 'risks.yaml'));
  });

  it('reports an empty file as empty', async () => {
    const path = join(dir, 'empty.yaml');
    await writeFile(path, '# nothing here\n');
    const error = await loadConfig(path).catch((caught: unknown) => caught);
    expect((error as ConfigError).issues).toEqual([
      '(root): the configuration is empty; expected owners, targets and controls',
    ]);
  });
});

describe('invalid YAML', () => {
  it('names the line and column of a syntax error', () => {
    const issues = yamlIssuesOf('owners: [\n  { id: sec\ncontrols: []\n');
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatch(/^YAML line \d+, column \d+: \S/);
  });

  it('rejects duplicate keys, which YAML would otherwise resolve silently to the last one', () => {
    expect(yamlIssuesOf('timeZone: UTC\ntimeZone: Europe/Berlin\n')).toEqual([
      'YAML line 2, column 1: Map keys must be unique',
    ]);
  });

  it('rejects a file with several documents', () => {
    expect(yamlIssuesOf('timeZone: UTC\n---\ntimeZone: UTC\n')[0]).toMatch(
      /^YAML line 2, column 1: .*multiple documents/i,
    );
  });

  it('rejects a top-level list', () => {
    expect(yamlIssuesOf('- owners\n- controls\n')).toEqual(['(root): expected object, received array']);
  });
});

describe('schema errors name the path and what was expected', () => {
  it('names the index of a control with an invalid cadence', () => {
    const issues = issuesOf(
      mutate((config) => {
        (config.controls[2] as Record<string, unknown>).cadence = 'hourly';
      }),
    );
    expect(issues).toEqual([
      'controls[2].cadence: expected one of daily, weekly, monthly, quarterly, annual',
    ]);
  });

  it('rejects unknown keys at the root, in an owner and in a control test', () => {
    const issues = issuesOf(
      mutate((config) => {
        config.colour = 'blue';
        (config.owners[1] as Record<string, unknown>).phone = '555';
        (config.controls[0]?.test as Record<string, unknown>).maxSilense = 'PT2H';
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        '(root): unknown key "colour"',
        'owners[1]: unknown key "phone"',
        'controls[0].test: unknown key "maxSilense"',
      ]),
    );
    expect(issues).toHaveLength(3);
  });

  it('rejects an unknown time zone', () => {
    expect(
      issuesOf(
        mutate((config) => {
          config.timeZone = 'Mars/Olympus_Mons';
        }),
      ),
    ).toEqual(['timeZone: expected an IANA time zone such as UTC or Europe/Berlin']);
  });

  it('accepts a real IANA time zone other than UTC', () => {
    expect(
      parseConfig(
        mutate((config) => {
          config.timeZone = 'Pacific/Auckland';
        }),
      ).timeZone,
    ).toBe('Pacific/Auckland');
  });

  it('rejects a control whose owner is not declared, listing the owners', () => {
    expect(
      issuesOf(
        mutate((config) => {
          (config.controls[1] as { owner: string }).owner = 'cfo';
        }),
      ),
    ).toEqual(['controls[1].owner: unknown owner "cfo"; expected one of security, devops']);
  });

  it('rejects a control test whose target is not declared', () => {
    const issues = issuesOf(
      mutate((config) => {
        (config.controls[0]?.test as { target: string }).target = 'warehouse';
      }),
    );
    expect(issues).toEqual(['controls[0].test.target: unknown target "warehouse"; expected one of app']);
  });

  it('rejects duplicate control, owner and target ids at the second occurrence', () => {
    const issues = issuesOf(
      mutate((config) => {
        (config.controls[2] as { id: string }).id = 'control-0';
        config.owners.push({ id: 'devops', name: 'DevOps again', email: 'ops@example.com' });
        config.targets?.push({ name: 'app', connection: { env: 'OTHER_URL' } });
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        'controls[2].id: duplicate id "control-0"',
        'owners[2].id: duplicate id "devops"',
        'targets[1].name: duplicate name "app"',
      ]),
    );
    expect(issues).toHaveLength(3);
  });

  it('lists the valid control test types for an unknown type', () => {
    const issues = issuesOf(
      mutate((config) => {
        (config.controls[1]?.test as { type: string }).type = 'vibes-check';
      }),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^controls\[1\]\.test\.type: expected one of .*\blog-completeness\b/);
  });

  it('says a required field is missing', () => {
    const issues = issuesOf(
      mutate((config) => {
        delete (config.controls[0] as { title?: string }).title;
      }),
    );
    expect(issues).toEqual(['controls[0].title: missing; expected string']);
  });

  it('rejects a wrong type with what it expected and what it got', () => {
    const issues = issuesOf(
      mutate((config) => {
        (config.controls[0] as Record<string, unknown>).criteria = 'CC7.2';
      }),
    );
    expect(issues).toEqual(['controls[0].criteria: expected array, received string']);
  });

  it('rejects criteria that are not SOC 2 criteria, and controls with none', () => {
    const issues = issuesOf(
      mutate((config) => {
        (config.controls[0] as { criteria: string[] }).criteria = ['CC7.2', 'ISO27001'];
        (config.controls[1] as { criteria: string[] }).criteria = [];
      }),
    );
    expect(issues).toEqual([
      'controls[0].criteria[1]: expected a SOC 2 criterion such as CC7.2 or A1.2',
      'controls[1].criteria: expected at least one SOC 2 criterion',
    ]);
  });

  it('rejects a target that names no source for its connection string', () => {
    const issues = issuesOf(
      mutate((config) => {
        if (config.targets?.[0]) config.targets[0].connection = {};
      }),
    );
    expect(issues).toEqual(['targets[0].connection: expected `env` or `secretId`']);
  });

  it('rejects a connection string written into the file', () => {
    const issues = issuesOf(
      mutate((config) => {
        if (config.targets?.[0]) {
          (config.targets[0].connection as Record<string, unknown>).url = 'postgres://user:secret@db/app';
        }
      }),
    );
    expect(issues).toEqual(['targets[0].connection: unknown key "url"']);
  });

  it('reports every problem at once, not just the first', () => {
    const issues = issuesOf(
      mutate((config) => {
        (config.controls[0] as Record<string, unknown>).cadence = 'fortnightly';
        (config.owners[0] as { email: string }).email = 'not-an-email';
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        'controls[0].cadence: expected one of daily, weekly, monthly, quarterly, annual',
        'owners[0].email: expected an email address',
      ]),
    );
  });
});

describe('SQL identifiers from the config', () => {
  const attempts = [
    'audit_log; drop table users',
    'audit_log; drop table',
    'audit_log"; DROP TABLE users; --',
    'public.audit_log',
    'Audit_Log',
    'audit log',
    '1audit',
    'audit_log--',
    "audit_log'",
    'a'.repeat(64),
    '',
  ];

  for (const attempt of attempts) {
    it(`rejects the table name ${JSON.stringify(attempt.length > 20 ? `${attempt.slice(0, 20)}…` : attempt)}`, () => {
      const issues = issuesOf(
        mutate((config) => {
          (config.controls[0]?.test as Record<string, unknown>).table = attempt;
        }),
      );
      expect(issues).toEqual([
        'controls[0].test.table: expected a lowercase SQL identifier: letters, digits, underscores',
      ]);
    });
  }

  it('rejects injection through the schema and column names too', () => {
    const issues = issuesOf(
      mutate((config) => {
        const test = config.controls[1]?.test as Record<string, unknown>;
        test.schema = 'public; drop schema public cascade';
        test.columns = { timestamp: 'ts) OR 1=1 --' };
      }),
    );
    expect(issues).toEqual([
      'controls[1].test.schema: expected a lowercase SQL identifier: letters, digits, underscores',
      'controls[1].test.columns.timestamp: expected a lowercase SQL identifier: letters, digits, underscores',
    ]);
  });

  it('accepts non-default schema, table and column names', () => {
    const config = parseConfig(
      mutate((raw) => {
        const test = raw.controls[0]?.test as Record<string, unknown>;
        test.schema = 'audit';
        test.table = 'events_2026';
        test.columns = { timestamp: 'occurred_at', userId: 'actor' };
      }),
    );
    expect(config.controls[0]?.test).toMatchObject({
      schema: 'audit',
      table: 'events_2026',
      columns: { timestamp: 'occurred_at', userId: 'actor', action: 'action', success: 'success' },
    });
  });
});

describe('formatPath', () => {
  it('writes zod paths the way the YAML reads', () => {
    expect(formatPath(['controls', 2, 'cadence'])).toBe('controls[2].cadence');
    expect(formatPath(['controls', 0, 'test', 'columns', 'timestamp'])).toBe(
      'controls[0].test.columns.timestamp',
    );
    expect(formatPath([])).toBe('');
  });
});
