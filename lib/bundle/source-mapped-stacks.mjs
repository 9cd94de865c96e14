/**
 * Injected into every Lambda bundle (serverless.yml custom.esbuild.inject): stack traces name the TypeScript
 * sources without `--enable-source-maps`. That flag makes Node read and parse each module's source map while the
 * module loads, i.e. on every cold start (about 8% of a whole cold process here, `npm run bench`); enabling it later
 * (`process.setSourceMapsEnabled`) does not cover modules already loaded. This file instead installs
 * `Error.prepareStackTrace`, which V8 calls only when an error's `stack` is first read: the bundle's `.map` is then
 * read once (each chunk's, with esbuild's `splitting`), and frames inside the bundle are printed at their original file, line, column and function name, in
 * the format of Node's own `--enable-source-maps` (sources resolved against the map's folder). Frames elsewhere
 * (Node internals, the Lambda runtime) are printed as V8 prints them.
 */
const { readFileSync } = process.getBuiltinModule('node:fs');
const { fileURLToPath, pathToFileURL } = process.getBuiltinModule('node:url');

// The folder of this bundle: its entry and, with esbuild's `splitting`, its chunks (this file may itself be in a
// chunk, under `chunks/` beside the entry). Frames elsewhere are left alone.
const bundleFolder = new URL('.', import.meta.url).href.replace(/chunks\/$/, '');

/** Each bundle file's source map, parsed at the first stack that needs it; null when it cannot be read. */
const sourceMaps = new Map();
const sourceMapOf = (fileUrl) => {
  let map = sourceMaps.get(fileUrl);
  if (map === undefined) {
    try {
      // Read here, not at load: node:module's SourceMap export loads Node's source map modules.
      const { SourceMap } = process.getBuiltinModule('node:module');
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(fileUrl)}.map`, 'utf8')));
    } catch {
      map = null;
    }
    sourceMaps.set(fileUrl, map);
  }
  return map;
};

/** The file URL of a frame when it lies in this bundle's folder (ES modules name frames by URL, CommonJS by path). */
const bundleFileOf = (site) => {
  const file = site.getFileName();
  if (!file) return undefined;
  const url = file.startsWith('/') ? pathToFileURL(file).href : file;
  return url.startsWith(bundleFolder) && url.endsWith('.mjs') ? url : undefined;
};

/** A source of the map as a path, resolved against the map's own location as Node does. */
const sourcePath = (source, fileUrl) => {
  try {
    const url = new URL(source, fileUrl);
    return url.protocol === 'file:' ? fileURLToPath(url) : url.href;
  } catch {
    return source;
  }
};

/** The original name of the function a frame is in: the map's name at the function's start, else at its caller. */
const originalName = (map, site, caller) => {
  const enclosing = map.findEntry(site.getEnclosingLineNumber() - 1, site.getEnclosingColumnNumber() - 1);
  if (enclosing?.name) return enclosing.name;
  const line = caller?.getLineNumber();
  const column = caller?.getColumnNumber();
  return line && column ? map.findEntry(line - 1, column - 1)?.name : undefined;
};

/** One frame: mapped to the TypeScript when it lies in this bundle and the map knows it, else V8's own text. */
const formatFrame = (site, caller) => {
  const fileUrl = bundleFileOf(site);
  const map = fileUrl && sourceMapOf(fileUrl);
  const entry = map?.findEntry(site.getLineNumber() - 1, site.getColumnNumber() - 1);
  if (!entry?.originalSource) return `    at ${site}`;
  const location = `${sourcePath(entry.originalSource, fileUrl)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  const typeName = site.getTypeName();
  const prefix = typeName && typeName !== 'global' && !site.isToplevel() ? `${typeName}.` : '';
  const name =
    originalName(map, site, caller && bundleFileOf(caller) === fileUrl ? caller : undefined) ?? site.getFunctionName();
  const asyncPrefix = site.isAsync() ? 'async ' : '';
  if (!name) return `    at ${asyncPrefix}${location}`;
  return `    at ${asyncPrefix}${site.isConstructor() ? 'new ' : ''}${prefix}${name} (${location})`;
};

/** The error's first line as Node prints it, whatever the error's own toString does. */
const headline = (error) => {
  try {
    return Error.prototype.toString.call(error);
  } catch {
    return '<error>';
  }
};

Error.prepareStackTrace = (error, sites) => {
  try {
    return [headline(error), ...sites.map((site, i) => formatFrame(site, sites[i + 1]))].join('\n');
  } catch {
    return [headline(error), ...sites.map((site) => `    at ${site}`)].join('\n');
  }
};
