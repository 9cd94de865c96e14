/**
 * The results of `npm run load -- bulk` as JSON and markdown in bench/results/: each run against the issue's targets
 * (drain within 1.2x N/R, at most 1.3 Mixin calls per record, nothing in the DLQ, nothing lost or duplicated).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../infra/local/command';
import type { BulkResult } from './bulk';

export const TARGETS = { drainRatio: 1.2, callsPerRecord: 1.3, deadLettered: 0, lost: 0, duplicated: 0 } as const;

export interface BulkReport {
  date: string;
  label: string;
  commit: string;
  machine: { cpu: string; cores: number; node: string };
  settings: Record<string, string | number>;
  targets: typeof TARGETS;
  runs: BulkResult[];
}

const commitOf = (): string => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};

export const bulkReport = (
  label: string,
  settings: Record<string, string | number>,
  runs: BulkResult[],
): BulkReport => ({
  date: new Date().toISOString(),
  label,
  commit: commitOf(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
  settings,
  targets: TARGETS,
  runs,
});

const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The markdown: one table per run, measured against each target. */
export const bulkMarkdown = (report: BulkReport): string => {
  const lines = [
    `# Bulk drain: ${report.label}`,
    '',
    `${report.date}, commit ${report.commit}, ${report.machine.cpu} (${report.machine.cores} cores), Node ${report.machine.node}.`,
    '',
    "Method (`npm run load -- bulk`, scripts/load/bulk.ts): N contact records sent with `npm run enqueue`'s sender to the local",
    "SQS of `npm start` (serverless-offline, the template's maximumConcurrency batches at once per queue, each in its own",
    'worker; the queue function timeout and visibility timeout as the settings below say), the Mixin sandbox limited to R',
    'calls a second (a token bucket of R refilled at R/s; refused calls answered HTTP 202 with code 429). The drain runs from',
    'the first message sent to the last conversation created; a run still draining at its time cap is reported at the cap.',
    '`lost` = neither created, nor in the DLQ, nor still queued (after the last creation, the batches under way get 15 s',
    'to finish before what is left counts as still queued).',
    '',
    `Settings: ${Object.entries(report.settings)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
  ];
  for (const r of report.runs) {
    const drain =
      r.drainSeconds !== null
        ? `${r.drainRatio!.toFixed(2)}x (${r.drainSeconds.toFixed(1)} s)`
        : r.cappedAt !== null
          ? `not drained: ${r.created} of ${r.n} created when capped at ${r.cappedAt.toFixed(0)} s (${(r.cappedAt / r.idealSeconds).toFixed(2)}x N/R)`
          : `never: ${r.created} of ${r.n} created, the queue empty after ${r.endedSeconds.toFixed(0)} s (${(r.endedSeconds / r.idealSeconds).toFixed(2)}x N/R), the rest in the DLQ`;
    lines.push(
      `## ${r.kind}: N = ${r.n}, R = ${r.rate}/s (N/R = ${r.idealSeconds.toFixed(0)} s, cap ${r.capSeconds} s)`,
      '',
      '| measure | target | measured | verdict |',
      '|---|---|---|---|',
      `| drain time / (N/R) | ≤ ${TARGETS.drainRatio}x | ${drain} | ${verdict(r.drainRatio !== null && r.drainRatio <= TARGETS.drainRatio)} |`,
      `| last conversation created | | at ${r.lastCreatedSeconds.toFixed(1)} s | |`,
      `| Mixin calls per record | ≤ ${TARGETS.callsPerRecord} | ${r.callsPerRecord.toFixed(2)} (${r.mixinCalls} calls) | ${verdict(r.callsPerRecord <= TARGETS.callsPerRecord)} |`,
      `| share answered 429 | | ${percent(r.share429)} (${r.answered429}) | |`,
      `| records in the DLQ | ${TARGETS.deadLettered} | ${r.deadLettered}${
        r.deadLettered
          ? ` (${Object.entries(r.deadLetteredByReason)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ')})`
          : ''
      } | ${verdict(r.deadLettered === 0)} |`,
      `| lost | ${TARGETS.lost} | ${r.lost} | ${verdict(r.lost === 0)} |`,
      `| duplicated${r.kind === 'contacts' ? ' (contacts: one ID per user by construction)' : ' (two groups for one key)'} | ${TARGETS.duplicated} | ${r.duplicated} | ${verdict(r.duplicated === 0)} |`,
      `| created | ${r.n} | ${r.created} | |`,
      `| still queued at the end | | ${r.stillQueued} | |`,
      `| most Mixin calls in flight at once | | ${r.maxMixinInFlight} | |`,
      `| enqueue time | | ${r.sendSeconds.toFixed(1)} s | |`,
      '',
    );
  }
  return lines.join('\n');
};

/** Writes bulk-<date>[-label].json and bulk-latest.md (and .json) into `dir`; returns the paths. */
export const writeBulkReport = (report: BulkReport, dir: string, fileLabel: string): string[] => {
  const day = report.date.slice(0, 10);
  const base = `bulk-${day}${fileLabel ? `-${fileLabel}` : ''}`;
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const md = bulkMarkdown(report);
  const files = [
    join(dir, `${base}.json`),
    join(dir, `${base}.md`),
    join(dir, 'bulk-latest.json'),
    join(dir, 'bulk-latest.md'),
  ];
  writeFileSync(files[0]!, json);
  writeFileSync(files[1]!, md);
  writeFileSync(files[2]!, json);
  writeFileSync(files[3]!, md);
  return files;
};
