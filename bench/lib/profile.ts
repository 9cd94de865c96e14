/**
 * Where a cold start's CPU goes: a --cpu-prof profile's self time by npm package (through the bundle's source map)
 * or by Node internal module, so that a cost can be named rather than guessed.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { pathToFileURL } from 'node:url';
import { packageOf } from './esbuild';

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface ProfileSummary {
  sampledMs: number;
  /** Self time (ms) by package of the bundle, by node: internal module, or by a V8 category. */
  selfMsBy: { where: string; ms: number }[];
}

export const summariseProfile = (profileFile: string, bundleFile: string): ProfileSummary => {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const bundleUrl = pathToFileURL(bundleFile).href;
  let map: SourceMap | undefined;
  try {
    map = new SourceMap(JSON.parse(readFileSync(`${bundleFile}.map`, 'utf8')));
  } catch {
    map = undefined;
  }
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const by = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const { url, functionName, lineNumber, columnNumber } = nodes.get(id)!.callFrame;
    let where: string;
    if (url === bundleUrl) {
      const entry = map?.findEntry(lineNumber, columnNumber) as { originalSource?: string } | undefined;
      where = entry?.originalSource ? `bundle: ${packageOf(entry.originalSource)}` : 'bundle: (unmapped)';
    } else if (url.startsWith('node:internal/deps/')) {
      where = url.replace(/^node:internal\/deps\/([^/]+).*$/, 'node internal: $1');
    } else if (url.startsWith('node:')) {
      where = `node: ${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
    } else if (url === '') {
      where = `(${functionName || 'native'})`;
    } else {
      where = 'runner';
    }
    by.set(where, (by.get(where) ?? 0) + us);
    total += us;
  }
  return {
    sampledMs: Math.round(total / 100) / 10,
    selfMsBy: [...by]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([where, us]) => ({ where, ms: Math.round(us / 100) / 10 })),
  };
};
