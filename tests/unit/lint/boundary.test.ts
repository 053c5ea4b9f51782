// The boundary rule: shared/ imports no platform code. Lints real files placed under shared/.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(root, 'shared', 'lint-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lint(name: string, source: string): Promise<string[]> {
  const file = join(dir, name);
  writeFileSync(file, source);
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintFiles([file]);
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint: shared/ stays isomorphic', () => {
  for (const spec of ['node:fs', 'fs', 'werift', 'idb', 'lit', 'hls.js', 'node-datachannel']) {
    it(`refuses an import of ${spec} under shared/`, async () => {
      const messages = await lint(`p${spec.replace(/\W/g, '_')}.ts`, `import * as x from '${spec}';\nexport const y = x;\n`);
      expect(messages.some((m) => m.startsWith('no-restricted-imports'))).toBe(true);
    });
  }
  it('accepts a plain module', async () => {
    expect(await lint('plain.ts', `export const y = 1;\n`)).toEqual([]);
  });
  it('refuses a floating promise', async () => {
    const messages = await lint('float.ts', `async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n`);
    expect(messages.some((m) => m.startsWith('@typescript-eslint/no-floating-promises'))).toBe(true);
  });
});
