/**
 * esbuild plugins for serverless.yml (custom.esbuild.plugins): every Node built-in is loaded with
 * process.getBuiltinModule() instead of an ES module import. On Node 22+, `import ... from 'node:http'` builds
 * node:http's ESM facade, which reads all its exports, lazy getters included (WebSocket, MessageEvent, CloseEvent):
 * that loads Node's internal undici, about 30 ms of cold start (nodejs/node#59686; measured by `npm run bench`).
 * A static import gets one pure read per export, so esbuild drops the ones nobody uses; a dynamic import gets a
 * namespace object with the plain data properties only (no accessor, hence no lazy getter is ever run).
 *
 * A few built-ins are imported at the top of a module but not needed by a cold start's first request: they are
 * loaded at their first use instead (LOAD_ON_FIRST_USE). Their function exports (functions and classes) become
 * proxies that load the module when called, constructed, or read (`instanceof` included); any other export is read
 * at import, as above, and only when something imports it.
 */
const { builtinModules } = require('node:module');

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * node:https (with node:tls, 10-30 ms to load here): our Mixin client imports it beside node:http, and needs it only
 * for an https URL, at the first request. node:stream/web (all of Node's web streams, about 4 ms): @middy/core
 * imports ReadableStream for streamed responses, which these functions never give.
 */
const LOAD_ON_FIRST_USE = new Set(['https', 'stream/web']);

/** The module of a built-in loaded at first use: `load()`, and `lazy(name)`, a proxy of its export `name`. */
const lazyPrelude = (id) => [
  'let m;',
  `const load = () => (m ??= process.getBuiltinModule(${JSON.stringify(id)}));`,
  'const lazy = (name) => new Proxy(function () {}, {',
  '  apply: (_, self, args) => Reflect.apply(load()[name], self, args),',
  '  construct: (_, args) => Reflect.construct(load()[name], args),',
  '  get: (_, key) => Reflect.get(load()[name], key),',
  '  has: (_, key) => Reflect.has(load()[name], key),',
  '  getPrototypeOf: () => Reflect.getPrototypeOf(load()[name]),',
  '});',
  'export default /* @__PURE__ */ new Proxy({}, { get: (_, key) => Reflect.get(load(), key), has: (_, key) => Reflect.has(load(), key) });',
];

module.exports = [
  {
    name: 'builtins-without-esm-facade',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z_0-9/]+$/ }, (args) => {
        const name = args.path.replace(/^node:/, '');
        if (!builtinModules.includes(name)) return undefined;
        return { path: name, namespace: args.kind === 'dynamic-import' ? 'node-builtin-dynamic' : 'node-builtin' };
      });
      const load = (args) => {
        const id = `node:${args.path}`;
        const mod = require(id);
        const dynamic = args.namespace === 'node-builtin-dynamic';
        const names = Object.keys(mod).filter(
          (k) =>
            IDENTIFIER.test(k) && k !== 'default' && (!dynamic || 'value' in Object.getOwnPropertyDescriptor(mod, k)),
        );
        const contents =
          LOAD_ON_FIRST_USE.has(args.path) && !dynamic
            ? [
                ...lazyPrelude(id),
                ...names.map((n) =>
                  typeof mod[n] === 'function'
                    ? `export const ${n} = /* @__PURE__ */ lazy(${JSON.stringify(n)});`
                    : `export const ${n} = /* @__PURE__ */ (() => load().${n})();`,
                ),
              ].join('\n')
            : [
                `const m = process.getBuiltinModule(${JSON.stringify(id)});`,
                'export default m;',
                ...names.map((n) => `export const ${n} = /* @__PURE__ */ (() => m.${n})();`),
              ].join('\n');
        return { contents, loader: 'js' };
      };
      build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, load);
      build.onLoad({ filter: /.*/, namespace: 'node-builtin-dynamic' }, load);
    },
  },
];
