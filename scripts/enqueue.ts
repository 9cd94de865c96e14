/**
 * `npm run enqueue`: bulk input for the queues, and a view of a backlog draining.
 *
 *   npm run enqueue -- contacts FILE   user IDs one per line, CSV with a user_id column, or JSON lines
 *                                      ({"user_id": ...} or a full contact request)
 *   npm run enqueue -- groups FILE     one group request per JSON line, with idempotency_key (sent as the
 *                                      IdempotencyKey attribute), random_id or conversation_id
 *   npm run enqueue -- --watch [contacts|groups]
 *
 * Every line is checked with the functions' own rules first; a bad line is reported with its number and why, and
 * never sent. Without --queue-url it targets `npm start`'s local queues (SQS_PORT, default 4102); with it, any queue,
 * through the usual AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL, region and credentials. Exit code 0 when every line was
 * sent (or, with --watch, the queues drained), 1 otherwise.
 */
import { runEnqueue } from './enqueue/cli';

const abort = new AbortController();
// Ctrl-C ends a watch with its summary (a second one ends it at once); it stops a send at once, with exit code 130:
// what was sent stays sent, and the same file may be sent again (contacts and keyed groups are idempotent).
const watching = process.argv.includes('--watch');
process.once('SIGINT', () => (watching ? abort.abort() : process.exit(130)));
runEnqueue(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: abort.signal,
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`enqueue: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
