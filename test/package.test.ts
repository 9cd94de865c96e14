/**
 * `npm run package` builds the whole CloudFormation template and the function zips offline, with no AWS
 * credentials, and the template says what the README promises: Node 24 on arm64, IAM-authorised routes,
 * ESM bundles, one least-privilege role per function.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../infra/local/command';
import { unzip, unzipTo } from '../infra/local/zip';
import { keystoreSecret } from '../infra/keystore-secret.cjs';
import { queueUrls } from '../infra/queue-urls.cjs';
import openTeamRoom from '../infra/state-machines/open-team-room.asl.json';
import { spawn, spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { ROOT } from '../infra/local/command';
import { alarmSettings, lambdaLogicalId } from '../infra/alarms.cjs';
import { ALARM_METRIC } from '../lib/observability';

// asl-validator ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: () => string;
};

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mixin-conversations/test/keystore-AbCdEf';

interface Resource {
  Type: string;
  Properties: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  DependsOn?: string | string[];
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let outDir: string;
let resources: Record<string, Resource>;
let packageMs = 0;

const ofType = (type: string): [string, Resource][] => Object.entries(resources).filter(([, r]) => r.Type === type);
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const functions = (): [string, Resource][] => ofType('AWS::Lambda::Function');

/** Every statement a role grants: its inline policies and the managed policies of this stack it attaches. */
const statementsOf = (roleId: string): Statement[] => {
  const role = resources[roleId]!;
  const inline = (role.Properties.Policies ?? []).flatMap(
    (p: { PolicyDocument: { Statement: Statement[] } }) => p.PolicyDocument.Statement,
  );
  const managed = (role.Properties.ManagedPolicyArns ?? []).flatMap((ref: { Ref?: string }) => {
    expect(ref.Ref && resources[ref.Ref]?.Type).toBe('AWS::IAM::ManagedPolicy');
    return resources[ref.Ref!]!.Properties.PolicyDocument.Statement as Statement[];
  });
  return [...inline, ...managed];
};

const roleOf = (fn: Resource): string => {
  const role = fn.Properties.Role as { 'Fn::GetAtt'?: [string, string] };
  expect(role['Fn::GetAtt']?.[1]).toBe('Arn');
  return role['Fn::GetAtt']![0];
};

/** `npm run package` into `dir`, with `--param` for each of `params` ("name=value"), and its own esbuild scratch folder. */
const packageInto = async (dir: string, params: string[]): Promise<void> => {
  // No credentials of any kind: packaging must never need an AWS account.
  // npm_config_ignore_scripts: run the `package` script but not `prepackage`, whose schema rebuild would rewrite
  // lib/schemas/generated/ under the feet of the suites running in parallel (`npm test` built it already).
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_CONFIG_FILE: join(dir, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
    npm_config_update_notifier: 'false',
    npm_config_ignore_scripts: 'true',
  };
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_DEFAULT_PROFILE',
  ])
    delete env[name];
  const workFolder = `esbuildWorkFolder=.esbuild/test-package-${process.pid}-${dir.slice(-6)}`;
  await run(
    'npm',
    ['run', '-s', 'package', '--', '--package', dir, ...[...params, workFolder].flatMap((p) => ['--param', p])],
    env,
    170_000,
  );
};

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'mixin-conversations-package-'));
  const started = Date.now();
  await packageInto(outDir, [`keystoreSecret=${SECRET_ARN}`]);
  packageMs = Date.now() - started;
  resources = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')).Resources;
}, 180_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
  if (packageMs) console.log(`npm run package took ${packageMs} ms`);
});

describe('functions', () => {
  it('runs every function on Node 24, arm64, with a timeout the trigger allows', () => {
    expect(functions().length).toBeGreaterThanOrEqual(2);
    for (const [id, fn] of functions()) {
      expect([id, fn.Properties.Runtime]).toEqual([id, 'nodejs24.x']);
      expect([id, fn.Properties.Architectures]).toEqual([id, ['arm64']]);
      expect(fn.Properties.MemorySize).toBeGreaterThanOrEqual(256);
      expect(fn.Properties.Timeout).toBeGreaterThan(0);
    }
    for (const id of ['CreateGroupHttpLambdaFunction', 'CreateContactHttpLambdaFunction']) {
      expect(resources[id]?.Properties.Timeout).toBeLessThan(30); // the HTTP API integration limit
    }
  });

  it('gives every function the configuration the handlers read', () => {
    for (const [id, fn] of functions()) {
      const vars = fn.Properties.Environment.Variables as Record<string, string>;
      expect({ id, secret: vars.MIXIN_KEYSTORE_SECRET_ID }).toEqual({ id, secret: SECRET_ARN });
      expect({ id, queueConcurrency: vars.QUEUE_CONCURRENCY }).toEqual({
        id,
        queueConcurrency: /Queue/.test(id) ? '5' : undefined,
      });
      expect(vars).toMatchObject({
        MIXIN_API_URL: 'https://api.mixin.one',
        KEYSTORE_CACHE_TTL_SECONDS: '300',
        MIXIN_ATTEMPT_TIMEOUT_MS: '5000',
        MIXIN_MAX_ATTEMPTS: '4',
        DEADLINE_MARGIN_MS: '500',
        POWERTOOLS_SERVICE_NAME: 'mixin-conversations',
        POWERTOOLS_METRICS_NAMESPACE: expect.any(String),
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      // Source maps are read only when a stack is printed (lib/bundle/source-mapped-stacks.mjs), never at every load.
      expect({ id, nodeOptions: vars.NODE_OPTIONS ?? '' }).toEqual({
        id,
        nodeOptions: expect.not.stringContaining('--enable-source-maps'),
      });
    }
  });

  it('keeps every function log group for a bounded time', () => {
    for (const [id] of functions()) {
      const logGroup = resources[id.replace(/LambdaFunction$/, 'LogGroup')];
      expect(logGroup?.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup?.Properties.RetentionInDays).toBeGreaterThan(0);
    }
  });
});

describe('HTTP API', () => {
  it.each([
    ['POST /groups', 'CreateGroupHttp'],
    ['POST /contacts', 'CreateContactHttp'],
  ])('routes %s to %s with IAM authorization and payload 2.0', (routeKey, fn) => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r);
    const route = routes.find((r) => r.Properties.RouteKey === routeKey);
    expect(route?.Properties.AuthorizationType).toBe('AWS_IAM');
    const integration = resources[`HttpApiIntegration${fn}`]!;
    expect(JSON.stringify(route!.Properties.Target)).toContain(`HttpApiIntegration${fn}`);
    expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
    expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain(`${fn}LambdaFunction`);
  });

  it('has no route without authorization', () => {
    for (const [, route] of ofType('AWS::ApiGatewayV2::Route'))
      expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });
});

describe('IAM', () => {
  it('gives each function a role of its own, and no shared default role', () => {
    const roles = functions().map(([, fn]) => roleOf(fn));
    expect(new Set(roles).size).toBe(roles.length);
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
    for (const role of roles) {
      expect(resources[role]?.Type).toBe('AWS::IAM::Role');
      expect(resources[role]!.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    }
  });

  it('lets each function read exactly the keystore secret, and nothing else of Secrets Manager', () => {
    for (const [id, fn] of functions()) {
      const statements = statementsOf(roleOf(fn)).filter((s) =>
        asArray(s.Action).some((a) => a.startsWith('secretsmanager:')),
      );
      expect({ id, statements }).toEqual({
        id,
        statements: [
          { Sid: expect.any(String), Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: SECRET_ARN },
        ],
      });
    }
  });

  it('lets each function write only to its own log group', () => {
    for (const [id, fn] of functions()) {
      const logs = statementsOf(roleOf(fn)).filter((s) => asArray(s.Action).some((a) => a.startsWith('logs:')));
      expect(logs).toHaveLength(1);
      expect(asArray(logs[0]!.Action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(logs[0]!.Resource).toEqual({ 'Fn::GetAtt': [id.replace(/LambdaFunction$/, 'LogGroup'), 'Arn'] });
    }
  });

  it('grants no action or resource wildcard anywhere', () => {
    for (const [, fn] of functions()) {
      for (const statement of statementsOf(roleOf(fn))) {
        expect(asArray(statement.Action).filter((a) => a.includes('*'))).toEqual([]);
        expect(JSON.stringify(statement.Resource)).not.toContain('*');
      }
    }
  });

  it('resolves a secret name to its ARN pattern and an ARN to itself (the keystoreSecret parameter)', () => {
    expect(keystoreSecret(SECRET_ARN)).toEqual({ secretId: SECRET_ARN, iamResource: SECRET_ARN });
    // A partial ARN (no 6-character suffix) is what GetSecretValue accepts but IAM never matches exactly.
    const partial = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mixin/keystore';
    expect(keystoreSecret(partial)).toEqual({ secretId: partial, iamResource: `${partial}-??????` });
    expect(keystoreSecret('mixin/keystore')).toEqual({
      secretId: 'mixin/keystore',
      iamResource: {
        'Fn::Sub': [
          'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${Name}-??????',
          { Name: 'mixin/keystore' },
        ],
      },
    });
    expect(() => keystoreSecret('*')).toThrow(/not a valid secret name/);
    expect(() => keystoreSecret('arn:aws:secretsmanager:eu-west-1:123456789012:secret:*')).toThrow(
      /not a Secrets Manager secret ARN/,
    );
    expect(() => keystoreSecret('')).toThrow();
  });
});

describe('bundles', () => {
  const zips = () => readdirSync(outDir).filter((f) => f.endsWith('.zip'));

  it('packs each function on its own: one minified ESM .mjs entry with its source map, lazily loaded chunks beside it, no node_modules', () => {
    for (const [id, fn] of functions()) {
      const zip = join(outDir, `${id.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase())}.zip`);
      expect(zips()).toContain(zip.slice(outDir.length + 1));
      const entries = unzip(zip);
      const handlerFile = `${String(fn.Properties.Handler).replace(/\.handler$/, '')}.mjs`;
      const names = [...entries.keys()];
      expect(names).toContain(handlerFile);
      expect(names).toContain(`${handlerFile}.map`);
      for (const name of names.filter((n) => n !== handlerFile && n !== `${handlerFile}.map`))
        expect(name).toMatch(/^functions\/[\w-]+\/chunks\/[\w-]+\.mjs(\.map)?$/);
      // Only what the entry can load (infra/zip-reachable-chunks.cjs), found here from the code itself, not the metafile.
      const textOf = (name: string) => entries.get(name)?.toString('utf8');
      const loadable = new Set([handlerFile]);
      for (const queue = [handlerFile]; queue.length > 0; ) {
        const from = queue.pop()!;
        for (const [, path] of textOf(from)!.matchAll(/(?:from\s*|import\s*\(?\s*)"(\.\.?\/[^"]+\.mjs)"/g)) {
          const target = join(from, '..', path!);
          expect({ from, target, inZip: names.includes(target) }).toEqual({ from, target, inZip: true });
          if (loadable.has(target)) continue;
          loadable.add(target);
          queue.push(target);
        }
      }
      expect({ id, files: names.filter((n) => !n.endsWith('.map')).sort() }).toEqual({
        id,
        files: [...loadable].sort(),
      });
      expect({ id, maps: names.filter((n) => n.endsWith('.map')).sort() }).toEqual({
        id,
        maps: [...loadable].map((n) => `${n}.map`).sort(),
      });
      const code = entries.get(handlerFile)!.toString('utf8');
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000); // minified: long lines, no indentation
      expect(code).toMatch(/export\s*\{[^}]*\bas handler\b|export\s*\{[^}]*\bhandler\b/);
      expect(code).toContain('sourceMappingURL=');
    }
  });

  it("keeps the SQS client of the dead-letter path out of the queue functions' cold start: a chunk loaded on first use", () => {
    for (const name of ['createGroupQueue', 'createContactQueue']) {
      const entries = unzip(join(outDir, `${name}.zip`));
      const [entryName, entry] = [...entries].find(([n]) => /^functions\/[\w-]+\/queue\.mjs$/.test(n))!;
      const code = entry.toString('utf8');
      const statics = [...code.matchAll(/(?:from|import)\s*"(\.\/chunks\/[^"]+)"/g)].map((m) => m[1]!);
      const loadedAtStart = [code, ...statics.map((c) => entries.get(join(entryName, '..', c))!.toString('utf8'))].join(
        '\n',
      );
      // 'AmazonSQS', the JSON-protocol target prefix of every SQS operation, is in the SDK client and only there.
      expect(loadedAtStart).not.toContain('AmazonSQS');
      const lazy = [...code.matchAll(/import\("(\.\/chunks\/[^"]+)"\)/g)].map(
        (m) => entries.get(join(entryName, '..', m[1]!))?.toString('utf8') ?? '',
      );
      expect(lazy.some((chunk) => chunk.includes('AmazonSQS') && chunk.includes('SendMessageBatch'))).toBe(true);
    }
  });

  it("bundles the AWS SDK Secrets Manager client it was tested with, rather than relying on the runtime's AWS SDK or a stand-in", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { version } = require('@aws-sdk/client-secrets-manager/package.json') as { version: string };
    for (const name of ['createGroupHttp', 'createContactQueue']) {
      const zip = unzip(join(outDir, `${name}.zip`));
      const code = [...zip.entries()]
        .filter(([file]) => file.endsWith('.mjs'))
        .map(([, text]) => text.toString('utf8'))
        .join('\n');
      expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(code).toContain('GetSecretValue');
      expect(code).toContain(`name:"@aws-sdk/client-secrets-manager",version:"${version}"`);
    }
  });

  it('loads as an ES module on Node 24 and exports a handler function', async () => {
    const dir = join(outDir, 'unpacked');
    for (const [id, fn] of functions()) {
      const name = id.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());
      unzipTo(join(outDir, `${name}.zip`), join(dir, name));
      const entry = join(dir, name, `${String(fn.Properties.Handler).replace(/\.handler$/, '')}.mjs`);
      expect(existsSync(entry)).toBe(true);
      // Its init prefetches the keystore: to a closed port on this machine, never to AWS.
      // A queue's Ref (DEAD_LETTER_QUEUE_URL) becomes its URL on deploy.
      const variables = Object.entries(
        fn.Properties.Environment.Variables as Record<string, string | { Ref: string }>,
      ).map(([name, value]) => [
        name,
        typeof value === 'string' ? value : `https://sqs.us-east-1.amazonaws.com/123456789012/${value.Ref}`,
      ]);
      const env = {
        ...process.env,
        ...Object.fromEntries(variables),
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
      };
      // process.execPath is Node 24 under `npm test` (the node devDependency), as in Lambda.
      const out = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(entry)}); console.log(typeof m.handler);`,
        ],
        env,
        30_000,
      );
      // The failed prefetch logs (and counts) once: the handler's type is still printed.
      expect(out.trim().split('\n')).toContain('function');
    }
  });

  it('logs the stack of an unexpected failure at the TypeScript sources, without --enable-source-maps', async () => {
    const dir = join(outDir, 'unpacked-failing');
    const [, fn] = functions().find(([id]) => id === 'CreateContactHttpLambdaFunction')!;
    unzipTo(join(outDir, 'createContactHttp.zip'), dir);
    const entry = join(dir, `${String(fn.Properties.Handler).replace(/\.handler$/, '')}.mjs`);
    // The init prefetch of the keystore goes to a closed local port (9, discard): it fails, 127.0.0.1 only.
    const env = {
      ...process.env,
      ...fn.Properties.Environment.Variables,
      NODE_OPTIONS: '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
    };
    // A null event is nothing API Gateway sends: the handler meets it as an unexpected TypeError and logs it.
    const script = `const m = await import(${JSON.stringify(entry)}); await m.handler(null, { awsRequestId: 'r', functionName: 'f', getRemainingTimeInMillis: () => 5000 });`;
    const out = await run(process.execPath, ['--input-type=module', '-e', script], env, 30_000);
    const stacks = out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { error?: { stack?: string } }).error?.stack)
      .filter((stack): stack is string => typeof stack === 'string');
    expect(stacks.length).toBeGreaterThan(0);
    // The first frame: a TypeScript file of ours, with its line and column, not the minified bundle.
    expect(stacks[0]!.split('\n')[1]).toMatch(/^ {4}at .*\/(lib|functions)\/[\w/-]+\.ts:\d+:\d+\)?$/);
    expect(stacks[0]).not.toContain('.mjs:');
  });
});

const QUEUES = [
  { queue: 'CreateGroupQueue', dlq: 'CreateGroupDeadLetterQueue', fn: 'CreateGroupQueue' },
  { queue: 'CreateContactQueue', dlq: 'CreateContactDeadLetterQueue', fn: 'CreateContactQueue' },
];

describe('queues', () => {
  it.each(QUEUES)('feeds $queue to $fn with partial batch responses', ({ queue, fn }) => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping')
      .map(([, m]) => m)
      .filter((m) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [queue, 'Arn'] }));
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]!.Properties;
    expect(mapping.FunctionName).toEqual({ 'Fn::GetAtt': [`${fn}LambdaFunction`, 'Arn'] });
    expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(mapping.BatchSize).toBeGreaterThanOrEqual(1);
    expect(mapping.BatchSize).toBeLessThanOrEqual(10);
    expect(mapping.MaximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(0);
    expect(mapping.Enabled).toBe(true);
  });

  it.each(QUEUES)(
    'moves $queue messages to $dlq after a few receives, and hides them long enough for $fn',
    ({ queue, dlq, fn }) => {
      const props = resources[queue]!.Properties;
      expect(resources[queue]!.Type).toBe('AWS::SQS::Queue');
      expect(resources[dlq]!.Type).toBe('AWS::SQS::Queue');
      expect(props.RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [dlq, 'Arn'] });
      expect(props.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(3);
      const timeout = resources[`${fn}LambdaFunction`]!.Properties.Timeout as number;
      const mapping = ofType('AWS::Lambda::EventSourceMapping').find(([, m]) =>
        JSON.stringify(m.Properties.EventSourceArn).includes(`"${queue}"`),
      )![1];
      expect(props.VisibilityTimeout).toBeGreaterThanOrEqual(
        6 * timeout + (mapping.Properties.MaximumBatchingWindowInSeconds ?? 0),
      );
      // A dead letter must outlive the message it was.
      expect(resources[dlq]!.Properties.MessageRetentionPeriod).toBeGreaterThan(props.MessageRetentionPeriod ?? 345600);
      expect(resources[dlq]!.Properties.RedrivePolicy).toBeUndefined();
    },
  );

  it('lets each queue function consume its own queue, and no other function touch SQS', () => {
    for (const [id, fn] of functions()) {
      const sqs = statementsOf(roleOf(fn)).filter((s) => asArray(s.Action).some((a) => a.startsWith('sqs:')));
      const own = QUEUES.find((q) => `${q.fn}LambdaFunction` === id);
      if (!own) {
        expect({ id, sqs }).toEqual({ id, sqs: [] });
        continue;
      }
      // Sending to its own dead-letter queue is checked in 'dead-letter queues' below.
      const consume = sqs.filter((s) => !asArray(s.Action).includes('sqs:SendMessage'));
      expect(consume).toHaveLength(1);
      expect(asArray(consume[0]!.Action).sort()).toEqual([
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
      ]);
      expect(consume[0]!.Resource).toEqual({ 'Fn::GetAtt': [own.queue, 'Arn'] });
    }
  });
});

describe('dead-letter queues', () => {
  /** Every statement of any role in the template that grants sqs:SendMessage. */
  const sendGrants = () =>
    ofType('AWS::IAM::Role').flatMap(([roleId]) =>
      statementsOf(roleId)
        .filter((s) => asArray(s.Action).includes('sqs:SendMessage'))
        .map((statement) => ({ roleId, statement })),
    );

  it.each(QUEUES)('tells $fn the URL of $dlq in DEAD_LETTER_QUEUE_URL', ({ dlq, fn }) => {
    expect(resources[`${fn}LambdaFunction`]!.Properties.Environment.Variables.DEAD_LETTER_QUEUE_URL).toEqual({
      Ref: dlq,
    });
  });

  it.each(QUEUES)(
    'lets $fn send to $dlq and re-send to $queue, exactly that action on exactly those queues',
    ({ queue, dlq, fn }) => {
      const role = roleOf(resources[`${fn}LambdaFunction`]!);
      expect(
        sendGrants()
          .filter((g) => g.roleId === role)
          .map((g) => g.statement),
      ).toEqual([
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [dlq, 'Arn'] } },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queue, 'Arn'] } },
      ]);
    },
  );

  it.each(QUEUES)(
    'tells $fn its own queue in SOURCE_QUEUE_URL and its maxReceiveCount in MAX_RECEIVE_COUNT (deferred copies)',
    ({ queue, fn }) => {
      const variables = resources[`${fn}LambdaFunction`]!.Properties.Environment.Variables;
      expect(variables.SOURCE_QUEUE_URL).toEqual({ Ref: queue });
      expect(String(variables.MAX_RECEIVE_COUNT)).toBe(
        String(resources[queue]!.Properties.RedrivePolicy.maxReceiveCount),
      );
    },
  );

  it('lets no other role send to any queue, and gives no other function a dead-letter queue URL', () => {
    const queueRoles = QUEUES.map(({ fn }) => roleOf(resources[`${fn}LambdaFunction`]!));
    expect(sendGrants().filter((g) => !queueRoles.includes(g.roleId))).toEqual([]);
    expect(sendGrants()).toHaveLength(2 * QUEUES.length);
    for (const [id, fn] of functions()) {
      if (QUEUES.some((q) => `${q.fn}LambdaFunction` === id)) continue;
      expect({ id, url: fn.Properties.Environment.Variables.DEAD_LETTER_QUEUE_URL }).toEqual({ id, url: undefined });
      expect({ id, url: fn.Properties.Environment.Variables.SOURCE_QUEUE_URL }).toEqual({ id, url: undefined });
    }
  });

  it('resolves DEAD_LETTER_QUEUE_URL to the local queue under npm start (the localQueueUrls parameter)', () => {
    const local = Object.fromEntries(
      QUEUES.flatMap(({ queue, dlq }) => [queue, dlq]).map((id) => [id, `http://127.0.0.1:4102/000000000000/${id}`]),
    );
    expect(queueUrls(JSON.stringify(local))).toEqual(local);
    expect(queueUrls('')).toEqual(Object.fromEntries(Object.keys(local).map((id) => [id, { Ref: id }])));
    const { CreateGroupDeadLetterQueue: _, ...missing } = local;
    expect(() => queueUrls(JSON.stringify(missing))).toThrow(/no URL for CreateGroupDeadLetterQueue/);
  });
});

describe('workflow', () => {
  const stateMachine = () => ofType('AWS::StepFunctions::StateMachine');

  /** The deployed definition, with the function ARNs Fn::Sub would put in. */
  const deployedDefinition = (): { json: Record<string, unknown>; functions: unknown[] } => {
    const sub = stateMachine()[0]![1].Properties.DefinitionString['Fn::Sub'] as [string, Record<string, unknown>];
    const [text, params] = sub;
    const functions: unknown[] = [];
    const json = JSON.parse(
      text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        functions.push(params[name]);
        return `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
      }),
    );
    return { json, functions };
  };

  it('deploys the open-team-room state machine, valid ASL, exactly as in infra/state-machines/', () => {
    expect(stateMachine()).toHaveLength(1);
    const { json, functions: invoked } = deployedDefinition();
    const result = aslValidator(json);
    expect([result.isValid, result.errorsText()]).toEqual([true, expect.any(String)]);
    expect(aslValidator(openTeamRoom).isValid).toBe(true);
    // Only the FunctionName placeholders differ from the file.
    const normalise = (d: unknown) => JSON.stringify(d).replace(/"FunctionName":"[^"]*"/g, '"FunctionName":"?"');
    expect(normalise(json)).toBe(normalise(openTeamRoom));
    expect(invoked).toEqual([
      { 'Fn::GetAtt': ['CreateGroupWorkflowLambdaFunction', 'Arn'] },
      { 'Fn::GetAtt': ['CreateContactWorkflowLambdaFunction', 'Arn'] },
    ]);
  });

  it('lets the state machine invoke the two workflow functions and nothing else', () => {
    const role = (stateMachine()[0]![1].Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(resources[role]!.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({
      Service: 'states.amazonaws.com',
    });
    expect(resources[role]!.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = statementsOf(role);
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [
          { 'Fn::GetAtt': ['CreateGroupWorkflowLambdaFunction', 'Arn'] },
          { 'Fn::GetAtt': ['CreateContactWorkflowLambdaFunction', 'Arn'] },
        ],
      },
    ]);
  });

  it('gives the workflow functions no trigger of their own: Step Functions invokes them directly', () => {
    for (const name of ['CreateGroupWorkflow', 'CreateContactWorkflow']) {
      expect(resources[`${name}LambdaFunction`]?.Type).toBe('AWS::Lambda::Function');
      const triggers = Object.entries(resources).filter(
        ([, r]) =>
          r.Type !== 'AWS::IAM::Role' &&
          r.Type !== 'AWS::StepFunctions::StateMachine' &&
          r.Type !== 'AWS::CloudWatch::Alarm' &&
          JSON.stringify(r).includes(`"${name}LambdaFunction"`),
      );
      expect(triggers).toEqual([]);
    }
  });

  type State = {
    Type: string;
    Retry?: {
      ErrorEquals: string[];
      JitterStrategy?: string;
      BackoffRate?: number;
      IntervalSeconds?: number;
      MaxAttempts?: number;
    }[];
    Catch?: { ErrorEquals: string[]; Next: string }[];
    Parameters?: { Payload?: Record<string, unknown> };
    ItemProcessor?: { States: Record<string, State> };
  };
  const tasks = (states: Record<string, State>): [string, State][] =>
    Object.entries(states).flatMap(([name, state]) => [
      ...(state.Type === 'Task' ? [[name, state] as [string, State]] : []),
      ...(state.ItemProcessor ? tasks(state.ItemProcessor.States) : []),
    ]);

  it('retries every task on the retryable names with jittered backoff, and catches everything else', () => {
    const all = tasks(openTeamRoom.States as unknown as Record<string, State>);
    expect(all.map(([name]) => name)).toEqual(['CreateGroup', 'CreateContact']);
    for (const [name, task] of all) {
      expect({ name, retry: task.Retry }).toEqual({
        name,
        retry: [
          expect.objectContaining({
            ErrorEquals: expect.arrayContaining([
              'MixinRateLimitError',
              'MixinUnavailableError',
              'KeystoreUnavailableError',
              'Lambda.ServiceException',
              'Lambda.TooManyRequestsException',
              'Lambda.SdkClientException',
              'Lambda.ClientExecutionTimeoutException',
              'Sandbox.Timedout',
            ]),
            JitterStrategy: 'FULL',
            IntervalSeconds: expect.any(Number),
            BackoffRate: expect.any(Number),
            MaxAttempts: expect.any(Number),
          }),
        ],
      });
      const catchers = task.Catch!.map((c) => c.ErrorEquals);
      expect(catchers).toEqual([['InvalidRequestError', 'MixinRequestError', 'KeystoreError'], ['States.ALL']]);
      const idempotencyKey = String(task.Parameters?.Payload?.['idempotency_key.$']);
      expect(idempotencyKey).toMatch(/^States\.Format\(.*\$\$\.Execution\.Name, \$\$\.State\.Name/);
    }
  });
});

/** The template `npm run package` wrote into `dir`. */
const templateIn = (
  dir: string,
): { Resources: Record<string, Resource>; Outputs: Record<string, { Value: unknown }> } =>
  JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));

/** Is `cfn-lint` on PATH? `missing` only when there is no such command (a broken install still runs, and fails). */
const cfnLintProbe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const cfnLintMissing = (cfnLintProbe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

interface CfnLintMatch {
  Level: string;
  Rule: { Id: string };
  Message: string;
  Location: { Path: (string | number)[] };
}

/** Runs cfn-lint on `templates` with `configFile`; resolves with its findings (it exits non-zero when there are any). */
const cfnLint = (configFile: string, templates: string[]): Promise<CfnLintMatch[]> =>
  new Promise((resolve, reject) => {
    const child = spawn('cfn-lint', ['--config-file', configFile, '--format', 'json', ...templates], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as CfnLintMatch[]);
      } catch {
        reject(new Error(`cfn-lint exited with ${code} without a JSON report:\n${stdout}${stderr}`));
      }
    });
  });

/** Operations: the alarms, on the default template and on one packaged with every alarm parameter set; cfn-lint on both. */
describe('operations', () => {
  /** The README's defaults of the alarm parameters (serverless.yml `params.default`). */
  const DEFAULTS = {
    period: 300,
    evaluationPeriods: 1,
    deadLetterMessages: 1,
    lambdaErrors: 1,
    lambdaThrottles: 1,
    keystoreReadFailures: 5,
  };
  const CUSTOM = {
    period: 120,
    evaluationPeriods: 3,
    deadLetterMessages: 4,
    lambdaErrors: 2,
    lambdaThrottles: 7,
    keystoreReadFailures: 20,
  };
  let customDir: string;

  beforeAll(async () => {
    customDir = mkdtempSync(join(tmpdir(), 'mixin-conversations-package-alarms-'));
    await packageInto(customDir, [
      'alarmEmail=ops@example.com',
      `alarmPeriodSeconds=${CUSTOM.period}`,
      `alarmEvaluationPeriods=${CUSTOM.evaluationPeriods}`,
      `deadLetterMessagesThreshold=${CUSTOM.deadLetterMessages}`,
      `lambdaErrorsThreshold=${CUSTOM.lambdaErrors}`,
      `lambdaThrottlesThreshold=${CUSTOM.lambdaThrottles}`,
      `keystoreReadFailuresThreshold=${CUSTOM.keystoreReadFailures}`,
    ]);
  }, 180_000);

  afterAll(() => {
    if (customDir) rmSync(customDir, { recursive: true, force: true });
  });

  describe('alarms', () => {
    /** Each check runs on both templates: the default one and the one with every alarm parameter set. */
    const TEMPLATES = [
      ['defaults', () => resources, DEFAULTS],
      ['custom parameters', () => templateIn(customDir).Resources, CUSTOM],
    ] as const;
    type Alarm = Resource['Properties'];
    const alarmsIn = (all: Record<string, Resource>): Alarm[] =>
      Object.values(all)
        .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
        .map((r) => r.Properties);
    /** The one alarm on `metric` of `namespace` with exactly these dimensions. */
    const alarmOn = (
      all: Record<string, Resource>,
      namespace: string,
      metric: string,
      dimensions: Record<string, unknown>,
    ): Alarm => {
      const wanted = Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value }));
      const found = alarmsIn(all).filter(
        (a) =>
          a.Namespace === namespace &&
          a.MetricName === metric &&
          JSON.stringify(a.Dimensions) === JSON.stringify(wanted),
      );
      expect({ namespace, metric, dimensions, alarms: found.length }).toEqual({
        namespace,
        metric,
        dimensions,
        alarms: 1,
      });
      return found[0]!;
    };
    const firesAtOrAbove = (threshold: number, statistic: string, settings: typeof DEFAULTS) => ({
      Statistic: statistic,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Period: settings.period,
      EvaluationPeriods: settings.evaluationPeriods,
      TreatMissingData: 'notBreaching',
    });
    /** The dead-letter queues: every queue's RedrivePolicy target. */
    const deadLetterQueues = (all: Record<string, Resource>): string[] =>
      Object.values(all).flatMap((r) =>
        r.Type === 'AWS::SQS::Queue' && r.Properties.RedrivePolicy
          ? [r.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0] as string]
          : [],
      );
    /** The namespace and `service` dimension the functions emit their EMF metrics with. */
    const emfOf = (all: Record<string, Resource>) => {
      const vars = Object.values(all).find((r) => r.Type === 'AWS::Lambda::Function')!.Properties.Environment
        .Variables as Record<string, string>;
      return { namespace: vars.POWERTOOLS_METRICS_NAMESPACE!, service: vars.POWERTOOLS_SERVICE_NAME! };
    };

    it.each(TEMPLATES)('alarms when a dead-letter queue holds a message (%s)', (_, all, settings) => {
      expect(deadLetterQueues(all()).sort()).toEqual(['CreateContactDeadLetterQueue', 'CreateGroupDeadLetterQueue']);
      for (const dlq of deadLetterQueues(all())) {
        const alarm = alarmOn(all(), 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', {
          QueueName: { 'Fn::GetAtt': [dlq, 'QueueName'] },
        });
        expect(alarm).toMatchObject(firesAtOrAbove(settings.deadLetterMessages, 'Maximum', settings));
      }
    });

    it.each(TEMPLATES)('alarms on the errors and throttles of every function (%s)', (_, all, settings) => {
      const ids = Object.entries(all())
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .map(([id]) => id);
      expect(ids).toHaveLength(6);
      for (const id of ids) {
        expect(alarmOn(all(), 'AWS/Lambda', 'Errors', { FunctionName: { Ref: id } })).toMatchObject(
          firesAtOrAbove(settings.lambdaErrors, 'Sum', settings),
        );
        expect(alarmOn(all(), 'AWS/Lambda', 'Throttles', { FunctionName: { Ref: id } })).toMatchObject(
          firesAtOrAbove(settings.lambdaThrottles, 'Sum', settings),
        );
      }
    });

    it.each(TEMPLATES)(
      'alarms on our credential and keystore metrics, in the namespace and service the functions emit them with (%s)',
      (_, all, settings) => {
        const { namespace, service } = emfOf(all());
        expect([namespace, service]).toEqual(['MixinConversations', 'mixin-conversations']);
        expect(alarmOn(all(), namespace, 'MixinCredentialsRejected', { service })).toMatchObject(
          firesAtOrAbove(1, 'Sum', settings),
        );
        expect(alarmOn(all(), namespace, 'KeystoreInvalid', { service })).toMatchObject(
          firesAtOrAbove(1, 'Sum', settings),
        );
        expect(alarmOn(all(), namespace, 'KeystoreReadFailed', { service })).toMatchObject(
          firesAtOrAbove(settings.keystoreReadFailures, 'Sum', settings),
        );
        // Every alarm metric the code emits (lib/observability.ts) has its alarm: a renamed metric cannot go unwatched.
        expect(Object.values(ALARM_METRIC).sort()).toEqual([
          'KeystoreInvalid',
          'KeystoreReadFailed',
          'MixinCredentialsRejected',
        ]);
      },
    );

    it('has nothing but those alarms, each named after its stack, each telling the one topic when it fires and when it clears', () => {
      const all = alarmsIn(resources);
      expect(all).toHaveLength(2 + 6 * 2 + 3);
      expect(resources.AlarmTopic?.Type).toBe('AWS::SNS::Topic');
      for (const alarm of all) {
        expect(alarm).toMatchObject({ AlarmActions: [{ Ref: 'AlarmTopic' }], OKActions: [{ Ref: 'AlarmTopic' }] });
        expect(alarm.AlarmName['Fn::Sub']).toMatch(/^\$\{AWS::StackName\}-[a-zA-Z-]+$/);
        expect(String(alarm.AlarmDescription).length).toBeGreaterThan(20);
      }
      expect(new Set(all.map((a) => a.AlarmName['Fn::Sub'])).size).toBe(all.length);
      expect(templateIn(outDir).Outputs.AlarmTopicArn?.Value).toEqual({ Ref: 'AlarmTopic' });
    });

    it('subscribes an address to the topic only when alarmEmail is given', () => {
      const subscriptions = (all: Record<string, Resource>) =>
        Object.values(all)
          .filter((r) => r.Type === 'AWS::SNS::Subscription')
          .map((r) => r.Properties);
      expect(subscriptions(resources)).toEqual([]);
      expect(subscriptions(templateIn(customDir).Resources)).toEqual([
        { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: 'ops@example.com' },
      ]);
    });

    it('takes the parameters as serverless.yml or --param give them, and refuses what CloudWatch would refuse at deploy time', () => {
      const params = {
        alarmEmail: '',
        alarmPeriodSeconds: 300,
        alarmEvaluationPeriods: 1,
        deadLetterMessagesThreshold: 1,
        lambdaErrorsThreshold: 1,
        lambdaThrottlesThreshold: 1,
        keystoreReadFailuresThreshold: 5,
      };
      expect(alarmSettings(params)).toEqual({ email: '', ...DEFAULTS });
      expect(
        alarmSettings({
          ...params,
          alarmEmail: ' ops@example.com ',
          alarmPeriodSeconds: '60',
          alarmEvaluationPeriods: '1440',
        }),
      ).toMatchObject({ email: 'ops@example.com', period: 60, evaluationPeriods: 1440 });
      expect(() => alarmSettings({ ...params, alarmEmail: 'ops' })).toThrow(
        /alarmEmail: "ops" is not an email address/,
      );
      expect(() => alarmSettings({ ...params, alarmPeriodSeconds: 90 })).toThrow(
        /alarmPeriodSeconds: 90 is not a whole number of minutes/,
      );
      expect(() => alarmSettings({ ...params, alarmPeriodSeconds: 30 })).toThrow(/alarmPeriodSeconds/);
      expect(() => alarmSettings({ ...params, alarmEvaluationPeriods: 289 })).toThrow(
        /alarmEvaluationPeriods: "289" is not a whole number from 1 to 288/,
      );
      expect(() => alarmSettings({ ...params, lambdaErrorsThreshold: 0 })).toThrow(/lambdaErrorsThreshold/);
      expect(() => alarmSettings({ ...params, keystoreReadFailuresThreshold: '2.5' })).toThrow(
        /keystoreReadFailuresThreshold/,
      );
      expect(() => alarmSettings({ ...params, deadLetterMessagesThreshold: undefined })).toThrow(
        /deadLetterMessagesThreshold/,
      );
      expect(lambdaLogicalId('createGroupHttp')).toBe('CreateGroupHttpLambdaFunction');
      expect(lambdaLogicalId('send-later_v2')).toBe('SendDashlaterUnderscorev2LambdaFunction');
    });
  });

  it('deploys the dashboard of infra/dashboard.cjs, its queue names and functions resolved from the template, its URL an output', () => {
    const dashboard = resources.Dashboard!;
    expect(dashboard.Type).toBe('AWS::CloudWatch::Dashboard');
    const [body, variables] = dashboard.Properties.DashboardBody['Fn::Sub'] as [
      string,
      Record<string, { 'Fn::GetAtt': [string, string] }>,
    ];
    for (const [name, value] of Object.entries(variables)) {
      expect({ name, type: resources[value['Fn::GetAtt'][0]]?.Type, attribute: value['Fn::GetAtt'][1] }).toEqual({
        name,
        type: 'AWS::SQS::Queue',
        attribute: 'QueueName',
      });
    }
    // Every other ${...} of the body is a pseudo parameter or a function of this template (Fn::Sub makes it a Ref).
    for (const [, name] of body.matchAll(/\$\{([^}]+)\}/g)) {
      if (name! in variables || name === 'AWS::Region') continue;
      expect({ name, type: resources[name!]?.Type }).toEqual({ name, type: 'AWS::Lambda::Function' });
    }
    expect(templateIn(outDir).Outputs.DashboardUrl?.Value).toEqual({
      'Fn::Sub': expect.stringContaining('#dashboards:name=${Dashboard}'),
    });
  });

  describe('cfn-lint', () => {
    const CONFIG = join(ROOT, '.cfnlintrc.yaml');
    const describeMatch = (m: CfnLintMatch) => `${m.Level} ${m.Rule.Id} at ${m.Location.Path.join('/')}: ${m.Message}`;

    if (cfnLintMissing) {
      it('cfn-lint is NOT installed: the template was NOT linted (pip install cfn-lint)', () => {
        console.warn(
          'cfn-lint is NOT installed: the packaged template was NOT linted. Install it (pip install cfn-lint) to run this check.',
        );
        // CI installs it: a runner without it must not look green.
        expect({ cfnLintMissing, CI: process.env.CI ?? '' }).toEqual({
          cfnLintMissing: true,
          CI: expect.stringMatching(/^(|0|false)$/i),
        });
      });
      return;
    }

    it('cfn-lint finds no error and no warning in the packaged templates, but for the rules .cfnlintrc.yaml ignores', async () => {
      console.log(`linting with ${cfnLintProbe.stdout.trim() || cfnLintProbe.stderr.trim()}`);
      const templates = [outDir, customDir].map((dir) => join(dir, 'cloudformation-template-update-stack.json'));
      const ignored = (parseYaml(readFileSync(CONFIG, 'utf8')) as { ignore_checks?: string[] }).ignore_checks ?? [];
      const unignoredConfig = join(outDir, 'cfnlintrc-without-ignores.yaml');
      writeFileSync(unignoredConfig, 'ignore_checks: []\n');
      const [findings, unfiltered] = await Promise.all([
        cfnLint(CONFIG, templates),
        cfnLint(unignoredConfig, templates.slice(0, 1)),
      ]);
      expect(findings.map(describeMatch)).toEqual([]);
      // Every ignored rule is still needed: drop it from .cfnlintrc.yaml once the template no longer trips it.
      expect([...new Set(unfiltered.map((m) => m.Rule.Id))].sort()).toEqual([...ignored].sort());
    }, 120_000);
  });
});
