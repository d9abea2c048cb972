import fs from 'node:fs';
import path from 'node:path';
import prettier from 'prettier';
import type { Measurement } from './types';

export interface BenchReport {
  at: string;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string };
  measurements: Measurement[];
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/**
 * Keeps docs/benchmarks.json as the latest figure of every measurement (a run with --only replaces just its own)
 * and rewrites the table between the markers in docs/benchmarks.md; the prose around it is written by hand.
 */
export async function writeReport(docsDir: string, report: BenchReport): Promise<void> {
  const jsonFile = path.join(docsDir, 'benchmarks.json');
  const previous: BenchReport | undefined = fs.existsSync(jsonFile)
    ? (JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as BenchReport)
    : undefined;
  const fresh = new Set(report.measurements.map((m) => m.id));
  const merged: BenchReport & { measuredAt: Record<string, string> } = {
    ...report,
    measuredAt: {
      ...(previous as { measuredAt?: Record<string, string> } | undefined)?.measuredAt,
      ...Object.fromEntries(report.measurements.map((m) => [m.id, report.at])),
    },
    measurements: [...(previous?.measurements ?? []).filter((m) => !fresh.has(m.id)), ...report.measurements],
  };
  fs.writeFileSync(jsonFile, `${JSON.stringify(merged, null, 2)}\n`);

  const rows = merged.measurements.map((m) => {
    const baseline = m.baseline ? `${m.baseline.value} ${m.baseline.unit} (${m.baseline.what})` : '—';
    const ratio = m.ratio === undefined ? '—' : String(m.ratio);
    return `| ${m.title} | ${m.value} ${m.unit} | ${baseline} | ${ratio} | ${m.target} | ${m.met ? 'met' : '**missed**'} | ${merged.measuredAt[m.id]?.slice(0, 16).replace('T', ' ')} |`;
  });
  const table = [
    START,
    `Machine: ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}.`,
    '',
    '| Measurement | Platform | Raw baseline | Ratio | Target | Result | Measured (UTC) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    END,
  ].join('\n');
  const mdFile = path.join(docsDir, 'benchmarks.md');
  const md = fs.existsSync(mdFile) ? fs.readFileSync(mdFile, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const from = md.indexOf(START);
  const to = md.indexOf(END);
  const updated =
    from === -1 || to === -1
      ? `${md.trimEnd()}\n\n${table}\n`
      : md.slice(0, from) + table + md.slice(to + END.length);
  // Formatted as `npm run lint` wants it, so a bench run leaves nothing for the linter to flag.
  const options = await prettier.resolveConfig(mdFile);
  fs.writeFileSync(mdFile, await prettier.format(updated, { ...options, filepath: mdFile }));
}
