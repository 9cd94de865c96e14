/**
 * `npm run enqueue` in-process against a real local SQS (fauxqs through the AWS SDK): what is sent, what is refused
 * (with its line number and why), the exit code, the clear errors, and --watch while a backlog drains.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { LocalSqs } from '../infra/local/sqs';
import { runEnqueue } from '../scripts/enqueue/cli';
import { ProgressBar } from '../scripts/enqueue/progress';
import { batchesOf } from '../scripts/enqueue/send';
import { takeAll } from './support/queues';

let sqs: LocalSqs;
let client: SQSClient;
let dir: string;
let port: string;

/** A port nobody listens on right now (the kernel's pick). */
const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => done(free));
    });
  });

beforeAll(async () => {
  sqs = await LocalSqs.start({ visibilityTimeoutSeconds: 30 });
  client = sqs.client();
  port = new URL(sqs.endpoint).port;
  dir = mkdtempSync(join(tmpdir(), 'mixin-conversations-enqueue-'));
});
afterEach(async () => {
  for (const q of sqs.queues) await takeAll(client, q.url);
});
afterAll(async () => {
  client?.destroy();
  await sqs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const U1 = '6e1f4b02-8f3a-4b49-9a4e-1f6b2a7d5c11';
const U2 = '0c0b3f2e-3c4e-4a7e-b1f8-2d5c9e1a4b77';
const U3 = 'a3b6c1d0-2e4f-4a5b-8c7d-9e0f1a2b3c4d';
const U4 = 'b7c2d4e6-1a3b-4c5d-8e9f-0a1b2c3d4e5f';
const U5 = 'c8d3e5f7-2b4c-4d6e-9f0a-1b2c3d4e5f60';

const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** Runs the command with npm start's defaults pointed at this SQS; its exit code and what it wrote. */
const run = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  let stdout = '';
  let stderr = '';
  const code = await runEnqueue(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: { SQS_PORT: port, ...env },
  });
  return { code, stdout, stderr };
};

const bodies = (messages: Message[]) =>
  messages.map((m) => JSON.parse(m.Body!)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
const contact = (user_id: string) => ({ participants: [{ user_id }] });
const contacts = () => takeAll(client, sqs.queue('CreateContactQueue').url);
const groups = () => takeAll(client, sqs.queue('CreateGroupQueue').url);

describe('contacts', () => {
  it('sends one contact request per user ID line, skips blank lines, and exits 0 when every line was sent', async () => {
    const { code, stdout, stderr } = await run([
      'contacts',
      file('ids.txt', `\uFEFF${U1}\n\n${U2.toUpperCase()}\r\n  ${U3}  \n`),
    ]);
    expect(code).toBe(0);
    expect(bodies(await contacts())).toEqual(
      bodies([contact(U1), contact(U2.toUpperCase()), contact(U3)].map((b) => ({ Body: JSON.stringify(b) }))),
    );
    expect(stdout).toContain('(user IDs, one per line) -> http://127.0.0.1:');
    expect(stdout).toMatch(/sent +3\n +refused lines +0\n +failed sends +0\n +time +[\d.]+ s/);
    expect(stderr).toContain('sent 100%: 3/3 (0 failed)');
  });

  it('refuses a bad line with its number and why, never sends it, sends the rest and exits 1', async () => {
    const { code, stdout, stderr } = await run([
      'contacts',
      file('bad.txt', `${U1}\nnot-a-uuid\n${U2}\n${U1},extra\n`),
    ]);
    expect(code).toBe(1);
    expect(bodies(await contacts())).toEqual(
      bodies([{ Body: JSON.stringify(contact(U1)) }, { Body: JSON.stringify(contact(U2)) }]),
    );
    expect(stderr).toContain('refused line 2: participants[0].user_id: must be a UUID');
    expect(stderr).toContain('refused line 4: participants[0].user_id: must be a UUID');
    expect(stdout).toMatch(/sent +2\n +refused lines +2 /);
  });

  it('reads a CSV file by its user_id column, quoted fields included; a CSV without that column is refused', async () => {
    const csv = `name,User_ID,team\n"Doe, Ann",${U1},a\nBob,${U2},"b ""x"""\nshort,${U3}\n`;
    const { code, stderr, stdout } = await run(['contacts', file('users.csv', csv)]);
    expect(code).toBe(1);
    expect(stdout).toContain('CSV (column 2, user_id, of 3)');
    expect(stderr).toContain('refused line 4: user_id: the line has 2 fields, the header 3');
    expect(bodies(await contacts())).toEqual(
      bodies([contact(U1), contact(U2)].map((b) => ({ Body: JSON.stringify(b) }))),
    );
    const missing = await run(['contacts', file('nocol.csv', `name,id\nann,${U1}\n`)]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('refused line 1: a CSV file needs a header line with a user_id column');
    expect(await contacts()).toEqual([]);
  });

  it('reads JSON lines: {"user_id"} or a full contact request, each checked as the function checks it', async () => {
    const lines = [
      JSON.stringify({ user_id: U1 }),
      JSON.stringify(contact(U2)),
      JSON.stringify({ participants: [{ user_id: U1 }, { user_id: U2 }] }),
      JSON.stringify({ user_id: U3, name: 'x' }),
      '{"user_id": "a", "user_id": "b"}',
      '{not json',
    ];
    const { code, stderr } = await run(['contacts', file('users.jsonl', lines.join('\n'))]);
    expect(code).toBe(1);
    expect(bodies(await contacts())).toEqual(
      bodies([contact(U1), contact(U2)].map((b) => ({ Body: JSON.stringify(b) }))),
    );
    expect(stderr).toMatch(/refused line 3: participants: /);
    expect(stderr).toContain('refused line 4: name: is not allowed beside user_id');
    expect(stderr).toMatch(/refused line 5: user_id: /);
    expect(stderr).toMatch(/refused line 6: body: /);
  });
});

describe('groups', () => {
  it('sends each group with its idempotency_key as the IdempotencyKey attribute, out of the body; random_id or conversation_id may stand in', async () => {
    const withKey = { name: 'Team 1', participants: [{ user_id: U1 }], idempotency_key: 'order-1' };
    const withRandom = { name: 'Team 2', participants: [{ user_id: U2, role: 'ADMIN' }], random_id: U3 };
    const withId = { name: 'Team 3', participants: [{ user_id: U3 }], conversation_id: U1 };
    const { code } = await run([
      'groups',
      file('groups.jsonl', [withKey, withRandom, withId].map((g) => JSON.stringify(g)).join('\n')),
    ]);
    expect(code).toBe(0);
    const sent = await groups();
    const byName = new Map(sent.map((m) => [JSON.parse(m.Body!).name as string, m]));
    expect(JSON.parse(byName.get('Team 1')!.Body!)).toEqual({ name: 'Team 1', participants: [{ user_id: U1 }] });
    expect(byName.get('Team 1')!.MessageAttributes).toEqual({
      IdempotencyKey: { DataType: 'String', StringValue: 'order-1' },
    });
    expect(JSON.parse(byName.get('Team 2')!.Body!)).toEqual({
      name: 'Team 2',
      participants: [{ user_id: U2, role: 'ADMIN' }],
      random_id: U3,
    });
    expect(byName.get('Team 2')!.MessageAttributes).toBeUndefined();
    expect(JSON.parse(byName.get('Team 3')!.Body!).conversation_id).toBe(U1);
  });

  it('refuses what the function would dead-letter, and a line a re-run would turn into a second group', async () => {
    const lines = [
      { name: 'no key', participants: [{ user_id: U1 }] },
      { name: 'twice', participants: [{ user_id: U1 }, { user_id: U1.toUpperCase() }], idempotency_key: 'k2' },
      { name: 'both', participants: [{ user_id: U1 }], random_id: U2, conversation_id: U3 },
      { name: '', participants: [{ user_id: U1 }], idempotency_key: 'k4' },
      { name: 'long key', participants: [{ user_id: U1 }], idempotency_key: 'x'.repeat(257) },
      { name: 'ok', participants: [{ user_id: U1 }], idempotency_key: 'k6' },
      { name: 'same key', participants: [{ user_id: U2 }], idempotency_key: 'k6' },
    ];
    const { code, stderr, stdout } = await run([
      'groups',
      file('bad-groups.jsonl', lines.map((g) => JSON.stringify(g)).join('\n')),
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      'refused line 1: idempotency_key: is required unless random_id or conversation_id is given',
    );
    expect(stderr).toContain('refused line 2: participants[1].user_id: duplicates participants[0].user_id');
    expect(stderr).toContain('refused line 3: conversation_id: cannot be combined with random_id');
    expect(stderr).toMatch(/refused line 4: name: /);
    expect(stderr).toContain('refused line 5: idempotency_key: must be 1 to 256 characters');
    expect(stderr).toContain('refused line 7: idempotency_key: is the key of line 6 already');
    expect(stdout).toMatch(/sent +1\n +refused lines +6 /);
    expect((await groups()).map((m) => m.MessageAttributes?.IdempotencyKey?.StringValue)).toEqual(['k6']);
  });
});

describe('found by trying it', () => {
  it('a quoted idempotency_key is the same key as the bare one (the one key rule): the second line is refused, not sent as the same group', async () => {
    const lines = [
      { name: 'bare', participants: [{ user_id: U1 }], idempotency_key: 'k8' },
      { name: 'quoted', participants: [{ user_id: U2 }], idempotency_key: '"k8"' },
    ];
    const { code, stderr } = await run([
      'groups',
      file('quoted-keys.jsonl', lines.map((g) => JSON.stringify(g)).join('\n')),
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('refused line 2: idempotency_key: is the key of line 1 already');
    expect((await groups()).map((m) => m.MessageAttributes?.IdempotencyKey?.StringValue)).toEqual(['k8']);
  });

  it('a CSV line with an unterminated quoted field is refused, not read as if the quote were closed', async () => {
    const { code, stderr } = await run(['contacts', file('unterminated.csv', `user_id\n"${U1}\n${U2}\n`)]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/refused line 2: user_id: .*quote/);
    expect(bodies(await contacts())).toEqual([contact(U2)]);
    // An unterminated quote on the first line is no header: that line is refused like any bad user ID.
    const first = await run(['contacts', file('quote-first.txt', `"${U1}\n${U2}\n`)]);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/refused line 1: /);
    expect(bodies(await contacts())).toEqual([contact(U2)]);
  });
});

describe('text encodings', () => {
  it('reads a UTF-16 file with its byte order mark (Windows PowerShell writes one with >, Excel saves "Unicode Text" so), LE and BE', async () => {
    const text = `user_id\r\n${U1}\r\n`;
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le.subarray(2)).swap16(); // a copy: swap16 works in place
    const paths = [join(dir, 'users-le.csv'), join(dir, 'users-be.csv')];
    writeFileSync(paths[0]!, le);
    writeFileSync(paths[1]!, Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
    for (const path of paths) {
      const { code, stderr } = await run(['contacts', path]);
      expect({ path, code, stderr }).toEqual({ path, code: 0, stderr: expect.not.stringContaining('refused') });
      expect(bodies(await contacts())).toEqual([contact(U1)]);
    }
  });
});

describe('clear errors', () => {
  it('an unreadable file: one line, exit 1, nothing sent', async () => {
    const { code, stderr, stdout } = await run(['contacts', join(dir, 'no-such-file.txt')]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toBe(`enqueue: cannot read ${join(dir, 'no-such-file.txt')}: no such file\n`);
    expect((await run(['contacts', dir])).stderr).toBe(`enqueue: cannot read ${dir}: is a directory, not a file\n`);
  });

  it('a file that is not UTF-8 (Latin-1 from an older Excel): one line saying so, exit 1, nothing sent', async () => {
    const latin1 = join(dir, 'latin1.csv');
    writeFileSync(latin1, Buffer.from(`user_id,name\n${U1},Jos\xe9\n`, 'latin1'));
    const { code, stderr, stdout } = await run(['contacts', latin1]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toBe(
      `enqueue: cannot read ${latin1}: is not UTF-8 text (nor UTF-16 with a byte order mark): save it as UTF-8\n`,
    );
    expect(await contacts()).toHaveLength(0);
  });

  it('a UTF-16 file without its byte order mark: one line saying so, exit 1, nothing sent', async () => {
    for (const encoding of ['utf16le', 'utf16be'] as const) {
      const path = join(dir, `no-bom-${encoding}.txt`);
      const le = Buffer.from(`${U1}\n${U2}\n`, 'utf16le');
      writeFileSync(path, encoding === 'utf16le' ? le : Buffer.from(le).swap16());
      const { code, stderr } = await run(['contacts', path]);
      expect({ encoding, code }).toEqual({ encoding, code: 1 });
      expect(stderr).toBe(
        `enqueue: cannot read ${path}: looks like UTF-16 without a byte order mark: save it as UTF-8 (or UTF-16 with its mark)\n`,
      );
    }
    expect(await contacts()).toHaveLength(0);
  });

  it('a file with nothing to send (empty, or a CSV header alone): one line, exit 1', async () => {
    for (const [name, text] of [
      ['empty.txt', ''],
      ['header.csv', 'user_id,name\n'],
    ]) {
      const { code, stderr } = await run(['contacts', file(name!, text!)]);
      expect({ name, code }).toEqual({ name, code: 1 });
      expect(stderr).toBe(`enqueue: ${join(dir, name!)} has no contacts to send (no lines, or a CSV header alone)\n`);
    }
  });

  it('the same user twice (in any letter case) is refused with the line it repeats: one contact per user', async () => {
    const { code, stderr } = await run(['contacts', file('dups.txt', [U1, U2, U1.toUpperCase()].join('\n'))]);
    expect(code).toBe(1);
    expect(stderr).toContain('refused line 3: user_id: is the user of line 1 already: one contact per user');
    expect(bodies(await contacts())).toEqual(
      [contact(U1), contact(U2)].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
  });

  it('an unreachable queue: one line naming it, exit 1', async () => {
    const closed = String(await freePort());
    const { code, stderr } = await run(['contacts', file('one.txt', `${U1}\n`)], { SQS_PORT: closed });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      new RegExp(
        `^enqueue: cannot reach the queue http://127\\.0\\.0\\.1:${closed}/000000000000/mixin-conversations-local-create-contact: .*ECONNREFUSED`,
      ),
    );
  });

  it('a queue that does not exist, named by --queue-url with the usual AWS variables: one line, exit 1', async () => {
    const env = { AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_REGION: 'us-east-1' };
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    try {
      const missing = await run(
        ['contacts', file('one.txt', `${U1}\n`), '--queue-url', `${sqs.endpoint}/000000000000/nope`],
        env,
      );
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^enqueue: cannot reach the queue .*\/nope: .*\n$/);
      const found = await run(
        ['contacts', file('one.txt', `${U1}\n`), '--queue-url', sqs.queue('CreateGroupDeadLetterQueue').url],
        env,
      );
      expect(found.code).toBe(0);
      expect(bodies(await takeAll(client, sqs.queue('CreateGroupDeadLetterQueue').url))).toEqual([contact(U1)]);
    } finally {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: saved.id, AWS_SECRET_ACCESS_KEY: saved.secret });
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  it('a usage mistake: the usage, exit 1', async () => {
    expect(await run(['contact', 'x'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('"contact" is neither contacts nor groups'),
    });
    expect(await run(['contacts'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('usage: npm run enqueue -- contacts FILE'),
    });
    expect(await run(['--watch', '--interval', '0'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--interval takes a number above 0'),
    });
  });

  it('refuses a --queue-url that is not a queue URL, one line saying why, before any call (the SDK would try AWS for it)', async () => {
    for (const [url, why] of [
      ['notaurl', 'not a URL'],
      ['http://127.0.0.1:99999/000000000000/q', 'not a URL'],
      ['http://[::1/000000000000/q', 'not a URL'],
      ['http://127.0.0.1 :4402/000000000000/q', 'not a URL'],
      ['ftp://x/1/q', 'not http or https'],
      ['http://127.0.0.1:4402?/000000000000/q', 'a user, query or fragment is not part of one'],
      ['http://u:p@127.0.0.1:4402/000000000000/q', 'a user, query or fragment is not part of one'],
      ['http://127.0.0.1:1', 'the path must be /ACCOUNT/NAME'],
      [
        'http://127.0.0.1:1/000000000000/q.fifo',
        'a FIFO queue needs a MessageGroupId, which these functions never give',
      ],
    ]) {
      const result = await run(['contacts', file('one.txt', `${U1}\n`), '--queue-url', url!], {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
      });
      expect(result).toMatchObject({
        code: 1,
        stderr: `enqueue: --queue-url takes a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME): ${why}, got "${url}"\n`,
      });
    }
  });
});

it('--watch begun during a drain gives a range: a record in flight whose deferred copy was already sent counts twice', async () => {
  const url = sqs.queue('CreateContactQueue').url;
  expect((await run(['contacts', file('three.txt', [U1, U2, U3].join('\n'))])).code).toBe(0);
  // A batch under way: the three received (in flight), each deferred as a copy, the originals not deleted yet.
  const { Messages: batch = [] } = await client.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }),
  );
  expect(batch).toHaveLength(3);
  for (const m of batch) await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: m.Body! }));
  const consumer = (async () => {
    await new Promise((r) => setTimeout(r, 700));
    for (const m of batch)
      await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
    await contacts(); // the copies, created
  })();
  const watched = await run(['--watch', 'contacts', '--interval', '0.3']);
  await consumer;
  expect(watched.code).toBe(0);
  // Three were created: the plain figure would say 6.
  expect(watched.stdout).toContain(
    'mixin-conversations-local-create-contact: created between 3 and 6 while watched (left the queue, not dead-lettered), dead-lettered 0, 0 still queued',
  );
  expect(watched.stdout).toContain('(the watch began with 3 in flight');
});

it('progress lines (stderr not a terminal) give the share actually sent, once per tenth', () => {
  let written = '';
  const bar = new ProgressBar({ write: (t: string) => (written += t) }, 120);
  for (const done of [10, 12, 30, 120]) bar.update(done, 0);
  expect(written.split('\n').map((l) => l.replace(/ \d+\/s$/, ''))).toEqual([
    'sent 8%: 10/120 (0 failed)',
    'sent 10%: 12/120 (0 failed)',
    'sent 25%: 30/120 (0 failed)',
    'sent 100%: 120/120 (0 failed)',
    '',
  ]);
});

it('sends 10 messages a call, and never more than 1 MiB in one call', () => {
  const entries = Array.from({ length: 25 }, (_, line) => ({ line, body: 'x' }));
  expect(batchesOf(entries).map((b) => b.length)).toEqual([10, 10, 5]);
  const big = Array.from({ length: 5 }, (_, line) => ({ line, body: 'x'.repeat(300 * 1024) }));
  expect(batchesOf(big).map((b) => b.length)).toEqual([3, 2]);
});

it('--watch shows the backlog draining, then created against failed by reason from the DLQ', async () => {
  const { code } = await run(['contacts', file('five.txt', [U1, U2, U3, U4, U5].join('\n'))]);
  expect(code).toBe(0);
  const dlq = sqs.deadLetterQueueOf('CreateContactQueue').url;
  await client.send(
    new SendMessageCommand({
      QueueUrl: dlq,
      MessageBody: '{}',
      MessageAttributes: { ErrorName: { DataType: 'String', StringValue: 'InvalidRequestError' } },
    }),
  );
  // A consumer: takes the five after a moment, one of them "dead-lettered" by SQS (no ErrorName).
  const consumer = (async () => {
    await new Promise((r) => setTimeout(r, 700));
    await contacts();
    await client.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: '{}' }));
  })();
  const watched = await run(['--watch', 'contacts', '--interval', '0.3']);
  await consumer;
  expect(watched.code).toBe(0);
  const lines = watched.stdout.split('\n');
  expect(lines[0]).toMatch(
    /^ +0 s {2}mixin-conversations-local-create-contact +visible +5 {2}delayed \(deferred\) +0 {2}in flight +0 {2}created +0\.0\/s {2}DLQ +1$/,
  );
  expect(watched.stdout).toMatch(/created +\d+\.\d\/s {2}DLQ +2\n/);
  expect(watched.stdout).toContain(
    'mixin-conversations-local-create-contact: created 4 while watched (left the queue, not dead-lettered), dead-lettered 1, 0 still queued',
  );
  expect(watched.stdout).toMatch(
    /in its DLQ now: 2, by reason:\n +1 {2}InvalidRequestError\n +1 {2}no ErrorName \(moved by SQS after maxReceiveCount receives\)/,
  );
  // Nothing was taken from the DLQ by looking.
  expect(await takeAll(client, dlq)).toHaveLength(2);
});
