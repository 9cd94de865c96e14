/**
 * Runs the example state machine definition itself (infra/state-machines/open-team-room.asl.json) with
 * aws-local-stepfunctions, its Task states backed by the real workflow handlers and the sandbox behind them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import { uniqueConversationId, groupIdForKey } from '../lib/conversation-id';
import { type Harness, lambdaContext, type LambdaHandler, startHarness } from './support/harness';

type Task = LambdaHandler<unknown, unknown>;
const definition = JSON.parse(
  readFileSync(join(__dirname, '..', 'infra', 'state-machines', 'open-team-room.asl.json'), 'utf8'),
);

let h: Harness;
let groupTask: Task;
let contactTask: Task;
const invocations: Record<string, number> = {};

beforeAll(async () => {
  h = await startHarness({ MIXIN_MAX_ATTEMPTS: '2' });
  groupTask = h.load<{ handler: Task }>('../../functions/create-group/workflow').handler;
  contactTask = h.load<{ handler: Task }>('../../functions/create-contact/workflow').handler;
});
afterAll(() => h.stop());
beforeEach(() => {
  h.sandbox.reset();
  for (const k of Object.keys(invocations)) delete invocations[k];
});

/** What `arn:aws:states:::lambda:invoke` does: invoke with Payload, answer {Payload, StatusCode}, or fail with the function's errorType. */
type LocalHandler = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string];
const lambdaInvoke =
  (state: string, handler: Task): LocalHandler =>
  async (input) => {
    invocations[state] = (invocations[state] ?? 0) + 1;
    const { Payload } = input as { FunctionName: string; Payload: unknown };
    try {
      const result = {
        ExecutedVersion: '$LATEST',
        StatusCode: 200,
        Payload: await handler(Payload, lambdaContext(10_000)),
      };
      return result as Awaited<ReturnType<LocalHandler>>;
    } catch (error) {
      const failure = new Error(
        JSON.stringify({ errorType: (error as Error).name, errorMessage: (error as Error).message }),
      );
      failure.name = (error as Error).name;
      throw failure;
    }
  };

const run = (input: unknown, executionName = `exec-${randomUUID()}`) =>
  new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: false } }).run(input as never, {
    overrides: {
      taskResourceLocalHandlers: {
        CreateGroup: lambdaInvoke('CreateGroup', groupTask),
        CreateContact: lambdaInvoke('CreateContact', contactTask),
      },
      // Milliseconds: longer than the task instance's pause after a 429 (a paused instance refuses a task at once; the
      // deployed Retry waits 2 s and more), far shorter than the deployed interval.
      retryIntervalOverrides: { CreateGroup: 50, CreateContact: 50 },
    },
    // aws-local-stepfunctions does not fill $$.State (only $$.Execution); the group's key is what matters here.
    context: { Execution: { Name: executionName }, State: { Name: 'CreateGroup' } } as never,
  }).result;

const members = (n: number) => Array.from({ length: n }, () => ({ user_id: randomUUID() }));

describe('open-team-room state machine', () => {
  it('creates the group and a contact with each member', async () => {
    const participants = members(3);
    const output = (await run({ name: 'Team room', participants }, 'exec-success')) as {
      group: { conversation_id: string };
      contacts: { user_id: string; opened: boolean; conversation_id: string }[];
    };
    const expectedGroup = groupIdForKey(h.bot.keystore.appId, 'exec-success/CreateGroup');
    expect(output.group).toEqual({ conversation_id: expectedGroup });
    expect(output.contacts).toEqual(
      participants.map(({ user_id }) => ({
        user_id,
        opened: true,
        conversation_id: uniqueConversationId(h.bot.keystore.appId, user_id),
      })),
    );
    expect(h.sandbox.created).toBe(4);
  });

  it('retries a throttled group task and creates exactly one group', async () => {
    const participants = members(2);
    // MIXIN_MAX_ATTEMPTS=2: the first Lambda invocation ends with MixinRateLimitError, the state's Retry runs it again.
    h.sandbox.inject({ kind: 'error', code: 429, count: 2, category: 'GROUP' });
    const output = (await run({ name: 'Throttled room', participants }, 'exec-throttled')) as {
      group: { conversation_id: string };
    };
    expect(invocations.CreateGroup).toBe(2);
    expect(output.group.conversation_id).toBe(groupIdForKey(h.bot.keystore.appId, 'exec-throttled/CreateGroup'));
    expect([...h.sandbox.conversations.values()].filter((c) => c.data.category === 'GROUP')).toHaveLength(1);
  });

  it('catches a permanently rejected contact and goes on with the other members', async () => {
    const participants = members(3);
    h.sandbox.inject({ kind: 'error', code: 10002, userId: participants[1]!.user_id, category: 'CONTACT' });
    const output = (await run({ name: 'Partly open', participants })) as {
      contacts: { user_id: string; opened: boolean; error?: string }[];
    };
    expect(output.contacts.map((c) => [c.user_id, c.opened, c.error])).toEqual([
      [participants[0]!.user_id, true, undefined],
      [participants[1]!.user_id, false, 'MixinRequestError'],
      [participants[2]!.user_id, true, undefined],
    ]);
    expect(invocations.CreateContact).toBe(3); // a MixinRequestError is never retried
  });

  it('fails the execution with the error name when the group is rejected', async () => {
    h.sandbox.inject({ kind: 'error', code: 20116 });
    await expect(run({ name: 'Full room', participants: members(1) })).rejects.toMatchObject({
      name: 'ExecutionError',
      cause: { name: 'MixinRequestError' },
    });
    expect(invocations.CreateGroup).toBe(1);
    expect(invocations.CreateContact).toBeUndefined();
  });
});
