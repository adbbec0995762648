import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchemaText } from '../../scripts/write-config-schema.ts';

async function committedSchema(): Promise<string> {
  return readFile(CONFIG_JSON_SCHEMA_PATH, 'utf8').catch(() => '(missing)');
}

async function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(await committedSchema()));
}

describe('soc2-evidence.schema.json', () => {
  it('matches the zod config schema (run `npm run schema` after changing it)', async () => {
    const committed = await committedSchema();
    const fresh = configJsonSchemaText();
    if (committed !== fresh) {
      expect.fail(
        'soc2-evidence.schema.json is stale: it no longer matches lib/config/schema.ts. Run `npm run schema` and commit the result.',
      );
    }
    expect(JSON.parse(committed).title).toBe('soc2-evidence configuration');
  });

  it('is the schema the example config points editors at', async () => {
    const yaml = await readFile('soc2-evidence.yaml', 'utf8');
    expect(yaml.split('\n')[0]).toBe('# yaml-language-server: $schema=./soc2-evidence.schema.json');
  });

  it('accepts the example config, as loadConfig does', async () => {
    const validate = await validator();
    const valid = validate(parse(await readFile('soc2-evidence.yaml', 'utf8')));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('flags an invalid cadence and an unknown key in the editor too', async () => {
    const validate = await validator();
    const config = parse(await readFile('soc2-evidence.yaml', 'utf8'));
    config.controls[0].cadence = 'hourly';
    config.controls[0].colour = 'blue';
    expect(validate(config)).toBe(false);
    const problems = (validate.errors ?? []).map((error) => `${error.instancePath} ${error.keyword}`);
    expect(problems).toEqual(
      expect.arrayContaining(['/controls/0/cadence enum', '/controls/0 additionalProperties']),
    );
  });
});
