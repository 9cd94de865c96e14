/**
 * The `npm run enqueue` command line (scripts/enqueue.ts), as a function of its arguments and streams so that the
 * tests run it in-process against a local SQS.
 */
import { readFile } from 'node:fs/promises';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localSqsClient, SERVICE } from '../../infra/local/sqs';
import { type Kind, readLines } from './lines';
import { type ProgressStream, ProgressBar } from './progress';
import { sendEntries } from './send';
import { watch, watchedQueue } from './watch';

export interface EnqueueIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** A clear error that ends the command with exit code 1 and one line. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const USAGE = `usage: npm run enqueue -- contacts FILE | groups FILE | --watch [contacts|groups]
  [--queue-url URL] [--in-flight N (8)] [--interval SECONDS (2)]`;

const QUEUE_OF: Record<Kind, string> = { contacts: 'create-contact', groups: 'create-group' };
const DEFAULT_IN_FLIGHT = 8;

interface Args {
  kind?: Kind;
  file?: string;
  watch: boolean;
  queueUrl?: string;
  inFlight: number;
  intervalSeconds: number;
}

const positive = (name: string, raw: string | undefined, max: number): number => {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value <= 0 || value > max)
    throw new UsageError(`${name} takes a number above 0 and at most ${max}, got "${raw ?? ''}"`);
  return value;
};

const parseArgs = (argv: string[]): Args => {
  const args: Args = { watch: false, inFlight: DEFAULT_IN_FLIGHT, intervalSeconds: 2 };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--watch') args.watch = true;
    else if (arg === '--queue-url') args.queueUrl = argv[++i] ?? '';
    else if (arg === '--in-flight') args.inFlight = Math.round(positive('--in-flight', argv[++i], 100));
    else if (arg === '--interval') args.intervalSeconds = positive('--interval', argv[++i], 3600);
    else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}\n${USAGE}`);
    else rest.push(arg);
  }
  const [kind, file, ...extra] = rest;
  if (kind !== undefined && kind !== 'contacts' && kind !== 'groups')
    throw new UsageError(`"${kind}" is neither contacts nor groups\n${USAGE}`);
  args.kind = kind;
  if (args.watch) {
    if (file !== undefined) throw new UsageError(`--watch takes no file\n${USAGE}`);
  } else if (kind === undefined || file === undefined || extra.length > 0) {
    throw new UsageError(USAGE);
  }
  args.file = file;
  if (args.queueUrl !== undefined) checkQueueUrl(args.queueUrl);
  return args;
};

/**
 * A queue URL as SQS writes one: http(s), a host (and port) that parse, /ACCOUNT/NAME, nothing else. Checked before
 * any client exists: the SDK falls back to the regional AWS endpoint for a URL it cannot parse. A FIFO queue is
 * refused: a message to it needs a MessageGroupId, which no function here gives, so every line would fail.
 */
const checkQueueUrl = (raw: string): void => {
  const refuse = (why: string) =>
    new UsageError(
      `--queue-url takes a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME): ${why}, got "${raw}"`,
    );
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('not http or https');
  if (url.username || url.password || url.search || url.hash || raw.includes('?') || raw.includes('#'))
    throw refuse('a user, query or fragment is not part of one');
  const path = /^\/\d+\/([\w-]+(\.fifo)?)\/?$/.exec(url.pathname);
  if (!path) throw refuse('the path must be /ACCOUNT/NAME');
  if (path[2]) throw refuse('a FIFO queue needs a MessageGroupId, which these functions never give');
};

/** npm start's local SQS: the endpoint of SQS_PORT (4102), no credentials of anyone's. */
const localEndpoint = (env: NodeJS.ProcessEnv) => `http://127.0.0.1:${env.SQS_PORT || 4102}`;
const localQueueUrl = (env: NodeJS.ProcessEnv, kind: Kind) =>
  `${localEndpoint(env)}/000000000000/${SERVICE}-local-${QUEUE_OF[kind]}`;

/**
 * The SQS client: the local one without --queue-url; with it, the SDK's own resolution of endpoint
 * (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL), region and credentials, as the AWS CLI does.
 */
const clientFor = (args: Args, env: NodeJS.ProcessEnv): SQSClient => {
  if (!args.queueUrl) return localSqsClient(localEndpoint(env), 'us-east-1');
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || /^https:\/\/sqs\.([a-z0-9-]+)\./.exec(args.queueUrl)?.[1];
  if (!region) throw new UsageError('no region: set AWS_REGION (or AWS_DEFAULT_REGION)');
  const endpoint = env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL;
  return new SQSClient({ region, maxAttempts: 3, ...(endpoint && { endpoint }) });
};

/** Fails with one clear line when the queue cannot be reached (or does not exist). */
const checkQueue = async (sqs: SQSClient, url: string): Promise<void> => {
  try {
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
    throw new UsageError(
      `cannot reach the queue ${url}: ${(error as Error).name}${cause ? ` ${cause}` : ''}${(error as Error).message ? `: ${(error as Error).message.split('\n')[0]}` : ''}`,
    );
  }
};

/**
 * A file's text: UTF-8, or UTF-16 when it starts with that byte order mark (Windows PowerShell's `>` and Excel's
 * "Unicode Text" write UTF-16LE): read as UTF-8, every line of it would be refused as not a UUID.
 */
const decode = (bytes: Buffer): string => {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  // UTF-16 without its byte order mark (iconv, some exports): every other byte of ASCII text is 0. Valid UTF-8, but
  // every line would be refused as not a UUID.
  const zeros = bytes.subarray(0, 4096).filter((b) => b === 0).length;
  if (bytes.length >= 2 && zeros * 4 >= Math.min(bytes.length, 4096))
    throw new Error('looks like UTF-16 without a byte order mark: save it as UTF-8 (or UTF-16 with its mark)');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Latin-1 or Windows-1252 (an older Excel's CSV): each line would be refused as not a UUID, for no visible reason.
    throw new Error('is not UTF-8 text (nor UTF-16 with a byte order mark): save it as UTF-8');
  }
};

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
};

const readText = async (file: string): Promise<string> => {
  try {
    return decode(await readFile(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${(code && READ_ERRORS[code]) ?? code ?? (error as Error).message}`);
  }
};

/** `contacts FILE` / `groups FILE`: check every line, send the good ones, summarise. */
const enqueue = async (args: Args & { kind: Kind; file: string }, io: EnqueueIo, sqs: SQSClient): Promise<number> => {
  const started = Date.now();
  const text = await readText(args.file);
  const { entries, refused, format } = readLines(args.kind, text);
  if (entries.length === 0 && refused.length === 0)
    throw new UsageError(`${args.file} has no ${args.kind} to send (no lines, or a CSV header alone)`);
  const url = args.queueUrl ?? localQueueUrl(io.env, args.kind);
  await checkQueue(sqs, url);
  const progress = new ProgressBar(io.stderr, entries.length);
  const { sent, failed } = await sendEntries(sqs, url, entries, args.inFlight, (done, outcome) =>
    progress.update(done, outcome.failed.length),
  );
  const seconds = (Date.now() - started) / 1000;
  for (const r of refused) io.stderr.write(`refused line ${r.line}: ${r.reason}\n`);
  for (const f of failed) io.stderr.write(`failed to send line ${f.line}: ${f.reason}\n`);
  const out = (line: string) => io.stdout.write(`${line}\n`);
  out(`enqueue ${args.kind}: ${args.file} (${format}) -> ${url}`);
  out(`  sent           ${sent}`);
  out(
    `  refused lines  ${refused.length}${refused.length ? ' (not sent: see above, with the line number and why)' : ''}`,
  );
  out(`  failed sends   ${failed.length}`);
  out(`  time           ${seconds.toFixed(1)} s (${Math.round(sent / Math.max(seconds, 0.001))} messages/s)`);
  return refused.length === 0 && failed.length === 0 ? 0 : 1;
};

/** `--watch`: the local queues (or the one of --queue-url) until they drain. */
const watchQueues = async (args: Args, io: EnqueueIo, sqs: SQSClient): Promise<number> => {
  const kinds: Kind[] = args.kind ? [args.kind] : ['contacts', 'groups'];
  const urls = args.queueUrl ? [args.queueUrl] : kinds.map((k) => localQueueUrl(io.env, k));
  for (const url of urls) await checkQueue(sqs, url);
  const queues = await Promise.all(urls.map((url) => watchedQueue(sqs, url)));
  await watch(sqs, queues, {
    intervalMs: args.intervalSeconds * 1000,
    write: (line) => io.stdout.write(`${line}\n`),
    ...(io.signal && { signal: io.signal }),
  });
  return 0;
};

/** Runs the command; resolves with its exit code. Every expected failure is one line on stderr. */
export const runEnqueue = async (argv: string[], io: EnqueueIo): Promise<number> => {
  let sqs: SQSClient | undefined;
  try {
    const args = parseArgs(argv);
    sqs = clientFor(args, io.env);
    return args.watch
      ? await watchQueues(args, io, sqs)
      : await enqueue(args as Args & { kind: Kind; file: string }, io, sqs);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`enqueue: ${error.message}\n`);
    return 1;
  } finally {
    sqs?.destroy();
  }
};
