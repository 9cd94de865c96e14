/**
 * A local AWS Secrets Manager endpoint (JSON 1.1 protocol) for `npm start` and the tests: the real AWS SDK
 * talks to it through `AWS_ENDPOINT_URL_SECRETS_MANAGER`. It serves GetSecretValue, DescribeSecret and
 * PutSecretValue from memory and can be told to fail, to test throttling and outages. Signatures are not checked.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A failure to inject for the next `count` calls (default: all): an AWS error `__type`, a connection reset or no answer at all. */
export interface SecretsFault {
  type:
    | 'ThrottlingException'
    | 'InternalServiceError'
    | 'ResourceNotFoundException'
    | 'AccessDeniedException'
    | 'reset'
    | 'hang';
  status?: number;
  count?: number;
}

interface StoredSecret {
  arn: string;
  name: string;
  value: string;
  /** Stored as SecretBinary (UTF-8 bytes of `value`) instead of SecretString. */
  binary: boolean;
  versionId: string;
  changed: number;
}

const STATUS: Record<string, number> = {
  ThrottlingException: 400,
  InternalServiceError: 500,
  ResourceNotFoundException: 400,
  AccessDeniedException: 400,
};

export class LocalSecretsManager {
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly sockets = new Set<Socket>();
  private faults: SecretsFault[] = [];
  private server: Server | undefined;
  /** Every call received: the operation and the SecretId. */
  readonly calls: { operation: string; secretId: string }[] = [];
  /** Calls received and neither answered nor given up by the caller yet (a hanging call counts until it is aborted). */
  inFlight = 0;
  url = '';

  constructor(private readonly region = 'us-east-1') {}

  /** Starts listening on 127.0.0.1 (an ephemeral port unless one is given). */
  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      this.inFlight++;
      res.once('close', () => this.inFlight--); // answered, or the connection dropped
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const operation = target.replace(/^secretsmanager\./, '');
        let input: Record<string, unknown> = {};
        try {
          input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        } catch {
          // fall through: the operation will report the missing SecretId
        }
        const secretId = String(input.SecretId ?? '');
        this.calls.push({ operation, secretId });
        const fault = this.faults.find((f) => f.count === undefined || f.count > 0);
        if (fault) {
          if (fault.count !== undefined) fault.count--;
          if (fault.type === 'reset') return void req.socket.destroy();
          if (fault.type === 'hang') return; // never answer; stop() drops the connection
          return send(res, fault.status ?? STATUS[fault.type] ?? 400, {
            __type: fault.type,
            message: `injected ${fault.type}`,
          });
        }
        const secret = this.find(secretId);
        if (!secret)
          return send(res, 400, {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          });
        switch (operation) {
          case 'GetSecretValue':
            return send(res, 200, {
              ARN: secret.arn,
              Name: secret.name,
              // The JSON protocol carries a blob as base64.
              ...(secret.binary
                ? { SecretBinary: Buffer.from(secret.value, 'utf8').toString('base64') }
                : { SecretString: secret.value }),
              VersionId: secret.versionId,
              VersionStages: ['AWSCURRENT'],
              CreatedDate: secret.changed / 1000,
            });
          case 'DescribeSecret':
            return send(res, 200, { ARN: secret.arn, Name: secret.name, LastChangedDate: secret.changed / 1000 });
          case 'PutSecretValue':
            this.put(secret.name, String(input.SecretString ?? ''));
            return send(res, 200, { ARN: secret.arn, Name: secret.name, VersionId: this.find(secret.name)!.versionId });
          default:
            return send(res, 400, { __type: 'InvalidRequestException', message: `unsupported operation ${operation}` });
        }
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** Stops the server and drops open connections. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Creates or replaces a secret's value (a rotation, when it exists), as SecretString or SecretBinary. Returns its ARN. */
  put(name: string, value: string, { binary = false }: { binary?: boolean } = {}): string {
    const existing = this.find(name);
    const arn =
      existing?.arn ?? `arn:aws:secretsmanager:${this.region}:000000000000:secret:${name}-${randomUUID().slice(0, 6)}`;
    this.secrets.set(name, { arn, name, value, binary, versionId: randomUUID(), changed: Date.now() });
    return arn;
  }

  /** Fails the next calls (or all, without `count`) with an AWS error or a connection reset. */
  inject(fault: SecretsFault): void {
    this.faults.push({ ...fault });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Calls of one operation so far. */
  count(operation = 'GetSecretValue'): number {
    return this.calls.filter((c) => c.operation === operation).length;
  }

  private find(id: string): StoredSecret | undefined {
    return this.secrets.get(id) ?? [...this.secrets.values()].find((s) => s.arn === id);
  }
}

const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
};
