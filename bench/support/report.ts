import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** One line of a benchmark's table: the figure, its baseline from the same run, and what it should be. */
export interface Figure {
  metric: string;
  value: string;
  baseline: string;
  goal: string;
}

export interface BenchResult {
  title: string;
  /** What was measured and how, in a sentence or two. */
  setup: string;
  figures: Figure[];
  notes?: string[];
  seconds?: number;
}

export interface Machine {
  os: string;
  cpu: string;
  cores: number;
  memory: string;
  node: string;
  date: string;
  /** The commit measured, and whether src/ had changes not in it. */
  tree: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} (${os.platform()}/${os.arch()})`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    date: new Date().toISOString(),
    tree: tree(),
  };
}

function tree(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'src') ? `${commit} + uncommitted changes in src/` : commit;
  } catch {
    return 'unknown (no git)';
  }
}

/** Rounds to a few significant figures for a table. */
export function fmt(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 10 ** digits) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

function pad(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  '));
}

export function printResult(r: BenchResult): void {
  console.log(`\n== ${r.title}${r.seconds !== undefined ? ` (${r.seconds.toFixed(1)} s)` : ''}`);
  const lines = pad([['figure', 'value', 'baseline (same run)', 'goal'], ...r.figures.map((f) => [f.metric, f.value, f.baseline, f.goal])]);
  console.log(lines[0]);
  console.log('-'.repeat(lines[0].length));
  for (const l of lines.slice(1)) console.log(l);
  for (const n of r.notes ?? []) console.log(`  * ${n}`);
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function markdown(results: BenchResult[], m: Machine, totalSeconds: number): string {
  const out: string[] = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts): figures, not pass/fail. Every figure has its baseline measured in the same run, and the goal it is held against. Simulated time where the figure is about simulated time (calls per hour), real time where it is about real time (latency, CPU, throughput).',
    '',
    '| machine | |',
    '| --- | --- |',
    `| date | ${m.date} |`,
    `| os | ${cell(m.os)} |`,
    `| cpu | ${cell(m.cpu)} |`,
    `| cores | ${m.cores} |`,
    `| memory | ${m.memory} |`,
    `| node | ${m.node} |`,
    `| tree | ${cell(m.tree)} |`,
    `| whole run | ${totalSeconds.toFixed(0)} s |`,
    '',
  ];
  results.forEach((r, i) => {
    out.push(`## ${i + 1}. ${r.title}`, '', r.setup, '', '| figure | value | baseline (same run) | goal |', '| --- | --- | --- | --- |');
    for (const f of r.figures) out.push(`| ${cell(f.metric)} | ${cell(f.value)} | ${cell(f.baseline)} | ${cell(f.goal)} |`);
    if (r.notes?.length) out.push('', ...r.notes.map((n) => `- ${n}`));
    if (r.seconds !== undefined) out.push('', `_${r.seconds.toFixed(1)} s_`);
    out.push('');
  });
  return out.join('\n');
}

export function writeMarkdown(file: string, text: string): void {
  fs.writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}
