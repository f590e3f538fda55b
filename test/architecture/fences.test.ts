import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { describe, expect, it } from 'vitest';

/**
 * The fences of docs/architecture.md: the import rules of `.dependency-cruiser.cjs` (DESIGN.md's
 * floors, routes never touching db/ or content/, format slices, test support) and the size
 * limit of a source file, checked on every `npm test` so an upward import fails CI.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX_LINES = 400;

function describeViolation(v: IViolation): string {
  if (v.cycle?.length) return `${v.from} → ${v.cycle.map((d) => d.name).join(' → ')}`;
  return `${v.from} → ${v.to}`;
}

function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (!/\.test\.tsx?$/.test(entry.name)) yield path;
  }
}

describe('fences', () => {
  it('src/ imports only along the rules of .dependency-cruiser.cjs', async () => {
    const options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
    const tsConfig = extractTSConfig(join(ROOT, 'tsconfig.json'));
    const { output } = await cruise(['src'], { ...options, baseDir: ROOT, outputType: 'json' }, {}, { tsConfig });
    const result = (typeof output === 'string' ? JSON.parse(output) : output) as ICruiseResult;
    // A cruise that found nothing (wrong directory, broken resolution) must not pass as clean.
    expect(result.summary.totalCruised).toBeGreaterThan(100);

    const why = new Map((options.ruleSet?.forbidden ?? []).map((r) => [r.name, r.comment ?? '']));
    const byRule = new Map<string, string[]>();
    for (const v of result.summary.violations) {
      const list = byRule.get(v.rule.name) ?? [];
      list.push(describeViolation(v));
      byRule.set(v.rule.name, list);
    }
    const report = [...byRule].map(([rule, lines]) => `${rule} (${why.get(rule)}):\n  ${lines.sort().join('\n  ')}`).join('\n\n');
    expect(report, `imports that break the fences (docs/architecture.md, "Fences"):\n\n${report}\n`).toBe('');
  });

  it(`no file under src/ other than a test is over ${MAX_LINES} lines`, () => {
    const oversized: string[] = [];
    for (const file of sourceFiles(join(ROOT, 'src'))) {
      const lines = lineCount(readFileSync(file, 'utf8'));
      if (lines > MAX_LINES) oversized.push(`${relative(ROOT, file)}: ${lines} lines`);
    }
    expect(oversized.join('\n'), `files over ${MAX_LINES} lines (split them by concern):\n${oversized.join('\n')}\n`).toBe('');
  });
});
