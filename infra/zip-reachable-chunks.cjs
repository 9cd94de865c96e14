/**
 * A local Serverless plugin (serverless.yml `plugins`): each function's zip keeps only what its entry can load.
 *
 * serverless-esbuild builds every function on its own, but into one folder, and zips that whole folder for each
 * function: with esbuild's `splitting`, every zip carried the chunks of every other function that shares the folder
 * (an HTTP function, the dead-letter path's SQS client of the queue functions). This plugin runs after the zips are
 * written and rewrites each one with its entry, the chunks esbuild's metafile says the entry reaches (statically or by
 * dynamic import, transitively) and their source maps; the metafiles themselves (`custom.esbuild.metafile`,
 * written beside each entry as `<entry>-meta.json`) are dropped. A zip whose metafile is missing fails the package:
 * better no deployment than one that cannot load a chunk.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const { unzipSync, zipSync } = require('fflate');

/** Zip entries as serverless-esbuild writes them: regular files, read-only for others, a fixed date (reproducible). */
const FILE = { attrs: 0o100644 << 16, os: 3, mtime: new Date('1980-01-01T00:00:00Z') };

/**
 * The zip entry names `handlerFile` reaches, by its metafile: its own output, every output it imports (either kind),
 * transitively, and each one's `.map` when the zip holds it.
 */
const reachable = (metafile, handlerFile, names) => {
  const outputs = metafile.outputs ?? {};
  const entryKey = Object.keys(outputs).find(
    (key) => outputs[key].entryPoint && (key === handlerFile || key.endsWith(`/${handlerFile}`)),
  );
  if (!entryKey) throw new Error(`the metafile of ${handlerFile} names no such entry output`);
  const prefix = entryKey.slice(0, entryKey.length - handlerFile.length);
  const seen = new Set([entryKey]);
  const queue = [entryKey];
  while (queue.length > 0) {
    for (const { path } of outputs[queue.pop()].imports ?? []) {
      if (path in outputs && !seen.has(path)) {
        seen.add(path);
        queue.push(path);
      }
    }
  }
  const keep = new Set();
  for (const key of seen) {
    const name = key.slice(prefix.length);
    if (!names.has(name)) throw new Error(`${handlerFile} imports ${name}, which its zip does not hold`);
    keep.add(name);
    if (names.has(`${name}.map`)) keep.add(`${name}.map`);
  }
  return keep;
};

/** Rewrites one function's zip in place; returns the names it dropped. */
const pruneZip = (zipPath, handlerFile) => {
  const entries = unzipSync(readFileSync(zipPath));
  const names = new Set(Object.keys(entries));
  const metaName = handlerFile.replace(/\.[cm]?js$/, '-meta.json');
  if (!names.has(metaName)) throw new Error(`${zipPath} holds no ${metaName}: set custom.esbuild.metafile to true`);
  const keep = reachable(JSON.parse(Buffer.from(entries[metaName]).toString('utf8')), handlerFile, names);
  const kept = {};
  for (const name of [...names].sort()) if (keep.has(name)) kept[name] = [entries[name], FILE];
  writeFileSync(zipPath, zipSync(kept, { level: 9 }));
  return [...names].filter((name) => !keep.has(name));
};

class ZipReachableChunks {
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    this.hooks = { 'after:package:createDeploymentArtifacts': () => this.prune() };
  }

  prune() {
    const service = this.serverless.service;
    const extension = service.custom?.esbuild?.outputFileExtension ?? '.js';
    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      const artifact = fn.package?.artifact;
      if (!artifact || !fn.handler) continue;
      const handlerFile = `${fn.handler.replace(/\.[^./]+$/, '')}${extension}`;
      const dropped = pruneZip(artifact, handlerFile);
      this.log?.verbose?.(`${name}: zip keeps what ${handlerFile} can load (${dropped.length} files dropped)`);
    }
  }
}

module.exports = ZipReachableChunks;
module.exports.reachable = reachable;
