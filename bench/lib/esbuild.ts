/**
 * The esbuild options of serverless.yml (custom.esbuild), as serverless-esbuild passes them to esbuild (its plugins
 * file loaded, its alias applied), so that the metafile builds are bundled exactly like the deployed functions; and
 * the same options without our cold-start levers (plugins, alias and inject), to bundle the baselines as a user would.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { parse } from 'yaml';

import { ROOT } from '../../infra/local/command';

export { ROOT };

// serverless-esbuild's own keys, which it strips before calling esbuild (node_modules/serverless-esbuild/dist/bundle.js).
const PLUGIN_KEYS = [
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
];

/**
 * The plugins of custom.esbuild, loaded as serverless-esbuild does: a file path relative to the service directory
 * whose export (or default export) is the plugin array. A file exporting a function needs the Serverless object:
 * not supported here, rather than built differently from the package.
 */
const loadPlugins = (plugins: unknown): Plugin[] | undefined => {
  if (plugins === undefined || Array.isArray(plugins)) return plugins;
  if (typeof plugins !== 'string')
    throw new Error(`serverless.yml custom.esbuild.plugins: expected a file path, got ${JSON.stringify(plugins)}`);
  let loaded = createRequire(join(ROOT, 'serverless.yml'))(join(ROOT, plugins)) as unknown;
  if (loaded && typeof loaded === 'object' && 'default' in loaded && !Array.isArray(loaded)) loaded = loaded.default;
  if (!Array.isArray(loaded)) throw new Error(`${plugins} does not export an array of esbuild plugins`);
  return loaded as Plugin[];
};

/**
 * How an entry is built:
 * - `deployed`: serverless.yml's custom.esbuild as is, our cold-start levers included (`plugins`: Node built-ins
 *   through process.getBuiltinModule, infra/esbuild-plugins.cjs; `alias`: the AWS credential provider and the Secrets
 *   Manager client; `inject`: source-mapped stack traces without --enable-source-maps).
 * - `plain`: the same options without `plugins`, `alias` and `inject` (ESM, minified, node24, same banner and source map),
 *   i.e. what a user of esbuild would write for the same handler.
 */
export type BuildKind = 'deployed' | 'plain';

/**
 * custom.esbuild of serverless.yml turned into esbuild options: the plugin's keys removed, its `outExtension` added,
 * its plugins file loaded. `alias` and `inject` pass through as is: esbuild resolves their relative paths from
 * `absWorkingDir`, which `bundle` sets to the service directory, as serverless-esbuild runs in it. `plain` drops
 * plugins, alias and inject.
 */
export const serverlessEsbuildOptions = (kind: BuildKind = 'deployed'): BuildOptions => {
  // CloudFormation tags (!GetAtt, !Ref) may appear elsewhere in the file: left unresolved, quietly.
  const doc = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as {
    custom: { esbuild: Record<string, unknown> };
  };
  const raw: Record<string, unknown> = { platform: 'node', ...doc.custom.esbuild };
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) if (!PLUGIN_KEYS.includes(key)) options[key] = value;
  const exclude = (raw.exclude as string[] | undefined) ?? [];
  options.external = [...((raw.external as string[] | undefined) ?? []), ...(exclude.includes('*') ? [] : exclude)];
  const ext = raw.outputFileExtension as string | undefined;
  if (ext && ext !== '.js') options.outExtension = { '.js': ext };
  const plugins = kind === 'deployed' ? loadPlugins(raw.plugins) : undefined;
  if (plugins) options.plugins = plugins;
  else delete options.plugins;
  if (kind === 'plain') {
    delete options.alias;
    delete options.inject;
  }
  return options as BuildOptions;
};

export interface BundleResult {
  file: string;
  /** What a cold start loads (the entry and every chunk it imports statically), minified and gzip -9 file by file. */
  bytes: number;
  gzipBytes: number;
  /** Those files, the entry first. */
  loadedAtStart: string[];
  metafile: Metafile;
}

export const gzipSize = (data: Buffer | string): number => gzipSync(data, { level: 9 }).length;

/** Minified and gzip bytes of files, summed: each is read (and could be compressed) on its own. */
export const filesSize = (files: string[]): { bytes: number; gzipBytes: number } => {
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of files) {
    const code = readFileSync(file);
    bytes += code.length;
    gzipBytes += gzipSize(code);
  }
  return { bytes, gzipBytes };
};

/** The metafile's entry output and the chunks it imports statically, transitively: what loading the entry loads. */
export const loadedAtStartOutputs = (metafile: Metafile): string[] => {
  const entry = Object.keys(metafile.outputs).find((f) => metafile.outputs[f]!.entryPoint && /\.m?js$/.test(f))!;
  const seen = [entry];
  for (let i = 0; i < seen.length; i++) {
    for (const imported of metafile.outputs[seen[i]!]!.imports) {
      if (imported.kind === 'import-statement' && !imported.external && !seen.includes(imported.path))
        seen.push(imported.path);
    }
  }
  return seen;
};

/**
 * The same for a bundle on disk, read from its code rather than a metafile (a packaged zip holds none): every
 * `import … from "./x.mjs"` and `import "./x.mjs"`, transitively; `import("./x.mjs")` is loaded later, not counted.
 */
export const loadedAtStartFiles = (entryFile: string): string[] => {
  const seen = [entryFile];
  for (let i = 0; i < seen.length; i++) {
    const code = readFileSync(seen[i]!, 'utf8');
    for (const [, path] of code.matchAll(/(?:\bfrom\s*|\bimport\s*)"(\.\.?\/[^"]+\.mjs)"/g)) {
      const file = join(seen[i]!, '..', path!);
      if (!seen.includes(file)) seen.push(file);
    }
  }
  return seen;
};

/** Bundles one entry with the deployed (or plain) options, plus a metafile, into `outdir`. */
export const bundle = async (
  entry: string,
  outdir: string,
  extra: BuildOptions = {},
  kind: BuildKind = 'deployed',
): Promise<BundleResult> => {
  const options: BuildOptions = {
    ...serverlessEsbuildOptions(kind),
    ...extra,
    entryPoints: [entry],
    outdir,
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'error',
  };
  const result = await build(options);
  // The entry's own output: with esbuild's `splitting`, chunks are outputs too.
  const loadedAtStart = loadedAtStartOutputs(result.metafile!).map((out) => join(ROOT, out));
  const file = loadedAtStart[0]!;
  writeFileSync(`${file}.meta.json`, JSON.stringify(result.metafile));
  return { file, ...filesSize(loadedAtStart), loadedAtStart, metafile: result.metafile! };
};

/** Bundles a runner script (not a measured function): plain ESM for Node 24, no minification. */
export const bundleRunner = async (entry: string, outfile: string): Promise<void> => {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'error',
  });
};

/** The npm package an input path of a metafile belongs to, or `(own code)`. */
export const packageOf = (input: string): string => {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return '(own code)';
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
};

/** Packages that are the AWS SDK itself. */
export const AWS_SDK_EXTERNALS = ['@aws-sdk/*', '@smithy/*', '@aws-crypto/*'];
export const isAwsSdkPackage = (pkg: string): boolean => /^@(aws-sdk|smithy|aws-crypto)\//.test(pkg);

/**
 * Minified bytes of what a cold start loads (the entry and its static chunks) by package, and those of the AWS SDK: its own packages plus the packages that only
 * the AWS SDK imports (found by walking the metafile's import graph to a fixpoint).
 */
export const bytesByPackage = (
  metafile: Metafile,
): { byPackage: Record<string, number>; awsSdkBytes: number; otherBytes: number; awsSdkPackages: string[] } => {
  const byPackage: Record<string, number> = {};
  for (const output of loadedAtStartOutputs(metafile).map((out) => metafile.outputs[out]!)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = packageOf(input);
      byPackage[pkg] = (byPackage[pkg] ?? 0) + bytesInOutput;
    }
  }
  // importers of each package (by package)
  const importers = new Map<string, Set<string>>();
  for (const [input, info] of Object.entries(metafile.inputs)) {
    for (const imp of info.imports) {
      if (imp.external) continue;
      const to = packageOf(imp.path);
      const from = packageOf(input);
      if (to === from) continue;
      if (!importers.has(to)) importers.set(to, new Set());
      importers.get(to)!.add(from);
    }
  }
  const sdk = new Set(Object.keys(byPackage).filter(isAwsSdkPackage));
  for (let changed = true; changed; ) {
    changed = false;
    for (const pkg of Object.keys(byPackage)) {
      if (sdk.has(pkg) || pkg === '(own code)') continue;
      const from = importers.get(pkg);
      if (from && from.size > 0 && [...from].every((f) => sdk.has(f))) {
        sdk.add(pkg);
        changed = true;
      }
    }
  }
  let awsSdkBytes = 0;
  let otherBytes = 0;
  for (const [pkg, bytes] of Object.entries(byPackage)) {
    if (sdk.has(pkg)) awsSdkBytes += bytes;
    else otherBytes += bytes;
  }
  return { byPackage, awsSdkBytes, otherBytes, awsSdkPackages: [...sdk].sort() };
};
