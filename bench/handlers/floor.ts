/**
 * The floor: POST /contacts with Node built-ins only (bench/handlers/floor-core.ts), keystore from the environment:
 * no validation, no secret fetch. The bench bundles it twice: as a user would (serverless.yml's esbuild options without
 * our plugins, alias and inject: the ES module import of node:http loads undici, nodejs/node#59686), the "floor"; and
 * with them, like the package (built-ins through process.getBuiltinModule, infra/esbuild-plugins.cjs), the
 * informational "floor, built like ours".
 */
import { contactFloor } from './floor-core';
import { keystoreFromEnv } from './shared';

export const { buildRequest, handler } = contactFloor(keystoreFromEnv());
