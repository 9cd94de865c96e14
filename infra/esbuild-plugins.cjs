/**
 * esbuild plugins for serverless.yml (custom.esbuild.plugins): every Node built-in is loaded with
 * process.getBuiltinModule() instead of an ES module import. On Node 22+, `import ... from 'node:http'` builds
 * node:http's ESM facade, which reads all its exports, lazy getters included (WebSocket, MessageEvent, CloseEvent):
 * that loads Node's internal undici, about 30 ms of cold start (nodejs/node#59686; measured by `npm run bench`).
 * A static import gets one pure read per export, so esbuild drops the ones nobody uses; a dynamic import gets a
 * namespace object with the plain data properties only (no accessor, hence no lazy getter is ever run).
 */
const { builtinModules } = require('node:module');

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

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
          (k) => IDENTIFIER.test(k) && k !== 'default' && (!dynamic || 'value' in Object.getOwnPropertyDescriptor(mod, k)),
        );
        const contents = [
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
