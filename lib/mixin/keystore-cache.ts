import { ConversationError, KeystoreUnavailableError } from '../errors';
import { ALARM_METRIC, countForAlarm, logger } from '../observability';
import { type Keystore, parseKeystore } from './keystore-parser';

/**
 * Reads the keystore secret's text once. Throws a {@link ConversationError} (KeystoreError: the secret cannot be
 * used; KeystoreUnavailableError: try again later) naming the reason, never the value; stops when `signal` aborts.
 */
export type SecretReader = (signal: AbortSignal) => Promise<string>;

export interface KeystoreCacheOptions {
  read: SecretReader;
  /** How long a good keystore is used before the secret is read again (the key rotation delay). */
  ttlMs: number;
  /** After a failed read, or a re-read that returned the key Mixin refused: no read for this long. */
  retryAfterFailureMs: number;
  /** With a good key in hand, how long a request may wait for a refresh before it goes on with that key. */
  refreshWaitMs: number;
}

/** One read of the secret, shared by every request (and record) that needs it while it runs. */
interface Read {
  result: Promise<Keystore>;
  readonly abort: AbortController;
  /** Set once the read has ended, or been given up: it is counted exactly once. */
  ended: boolean;
}

const sameKey = (a: Keystore, b: Keystore): boolean =>
  a.appId === b.appId && a.sessionId === b.sessionId && a.publicKeyHex === b.publicKeyHex;

/**
 * The keystore of one instance, one owner. It is read at init (`prefetch`), again when older than `ttlMs`, and
 * after Mixin refused it (`reload`). A read that fails logs one ERROR line (the reason, never the value), counts
 * `KeystoreReadFailed`, and starts a quiet window of `retryAfterFailureMs` without reads: meanwhile the last good
 * keystore serves, and an instance with none answers the failure again (but a transient failure with no key in
 * hand is tried again on the next request: there is nothing else to serve). A re-read after a 401 that returns
 * the refused key starts the same window, without a failure: at most one read per window, however many 401s.
 *
 * Nothing runs after the request that started it (Lambda freezes the instance between requests): every wait is
 * bounded by the request's deadline, a refresh with a good key in hand by `refreshWaitMs`, and a read outliving
 * its bound is aborted and counted as failed then, once.
 */
export class KeystoreCache {
  #good: { keystore: Keystore; raw: string; readAt: number } | undefined;
  /** The last read's failure, until a read succeeds. */
  #failure: ConversationError | undefined;
  /** No read before this time (epoch ms). */
  #quietUntil = 0;
  #reading: Read | undefined;

  constructor(private readonly options: KeystoreCacheOptions) {}

  /** Starts the first read now (the cold start's prefetch); its failure is logged and remembered, not thrown. */
  prefetch(): void {
    this.#read().result.catch(() => undefined);
  }

  /** The keystore for a request that must be answered by `deadline` (epoch ms; none: wait as long as it takes). */
  async get(deadline?: number): Promise<Keystore> {
    const good = this.#good;
    const now = Date.now();
    if (good && now - good.readAt < this.options.ttlMs) return good.keystore;
    if (now < this.#quietUntil) {
      if (good) return good.keystore;
      if (this.#failure && !this.#failure.retryable) throw this.#failure;
    }
    if (!good) return this.#wait(deadline, 'Secrets Manager did not answer before the deadline');
    const budget = now + this.options.refreshWaitMs;
    const [until, why] =
      deadline !== undefined && deadline < budget
        ? [deadline, 'before the deadline']
        : [budget, 'within the refresh wait (KEYSTORE_REFRESH_WAIT_MS)'];
    return this.#wait(until, `Secrets Manager did not answer ${why}`).catch(() => good.keystore);
  }

  /**
   * After Mixin refused `stale` (a 401): the keystore to try again with. The current one if it changed since
   * (another record re-read it), else the secret read again, unless reads are in their quiet window.
   */
  async reload(stale: Keystore, deadline?: number): Promise<Keystore> {
    const good = this.#good;
    if (good && !sameKey(good.keystore, stale)) return good.keystore;
    if (Date.now() < this.#quietUntil) return stale;
    let fresh: Keystore;
    try {
      fresh = await this.#wait(deadline, 'Secrets Manager did not answer before the deadline');
    } catch {
      return stale; // counted by the read; the caller reports Mixin's refusal
    }
    if (sameKey(fresh, stale)) {
      // The secret still holds the refused key (a revoked session, a secret not updated yet): not a read failure
      // (the credentials alarm covers it), but no read per request either.
      this.#quietUntil = Date.now() + this.options.retryAfterFailureMs;
      logger.warn('keystore secret unchanged after Mixin refused its key', {
        public_key: stale.publicKeyHex,
        next_read_in_ms: this.options.retryAfterFailureMs,
      });
    }
    return fresh;
  }

  /** Waits for the read in flight (or a new one) until `until`; past it, gives the read up as failed and aborts it. */
  async #wait(until: number | undefined, lateMessage: string): Promise<Keystore> {
    const read = this.#read();
    if (until === undefined) return read.result;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          const error = new KeystoreUnavailableError(lateMessage);
          this.#failed(read, error);
          read.abort.abort(error);
          reject(error);
        },
        Math.max(0, until - Date.now()),
      );
    });
    try {
      return await Promise.race([read.result, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #read(): Read {
    if (this.#reading) return this.#reading;
    const read = { abort: new AbortController(), ended: false } as Read;
    read.result = this.#run(read);
    this.#reading = read;
    return read;
  }

  async #run(read: Read): Promise<Keystore> {
    const { signal } = read.abort;
    try {
      const raw = await this.options.read(signal);
      if (read.ended) throw signal.reason; // given up already: counted then
      const keystore = this.#good?.raw === raw ? this.#good.keystore : parseKeystore(raw);
      read.ended = true;
      if (this.#reading === read) this.#reading = undefined;
      this.#good = { keystore, raw, readAt: Date.now() };
      this.#failure = undefined;
      this.#quietUntil = 0;
      return keystore;
    } catch (error) {
      const typed = read.ended ? (signal.reason as ConversationError) : toKeystoreError(error);
      this.#failed(read, typed);
      throw typed;
    }
  }

  /** Ends `read` as failed, once: the ERROR line, the alarm metric and the quiet window. */
  #failed(read: Read, error: ConversationError): void {
    if (this.#reading === read) this.#reading = undefined;
    if (read.ended) return;
    read.ended = true;
    this.#failure = error;
    this.#quietUntil = Date.now() + this.options.retryAfterFailureMs;
    logger.error('keystore read failed', {
      reason: error.message,
      retryable: error.retryable,
      serving_last_good_keystore: this.#good !== undefined,
    });
    countForAlarm(ALARM_METRIC.keystoreReadFailed);
  }
}

/** Whatever a reader threw, as one of our typed errors (a reader's own typed error as it is). */
const toKeystoreError = (error: unknown): ConversationError =>
  error instanceof ConversationError
    ? error
    : new KeystoreUnavailableError(
        `the keystore could not be read (${(error as { name?: string } | undefined)?.name ?? 'Error'})`,
      );
