import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A raw HTTP answer: status, headers that matter, body text. */
export interface RawResponse {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** The request never produced a complete, acceptable answer. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly kind: 'network' | 'timeout' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}

/** A transport call: where, how, and the limits on time and on the size of the answer. */
export interface TransportRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Largest answer read, in bytes: a Lambda response cannot exceed 6 MB anyway. */
  maxResponseBytes: number;
}

/**
 * Sends one request and reads the whole answer, failing with a {@link TransportError} after `timeoutMs` in total
 * (connect + send + receive) or once the answer outgrows `maxResponseBytes`. node:http(s) rather than fetch: fetch
 * loads undici, tens of milliseconds of cold start (`npm run bench`, HTTP client section).
 */
export const exchange = ({
  url,
  method,
  headers,
  body,
  timeoutMs,
  maxResponseBytes,
}: TransportRequest): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const open = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = open(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'Content-Length': Buffer.byteLength(body) },
    });
    const timer = setTimeout(() => {
      req.destroy(new TransportError('timeout', `no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(
        error instanceof TransportError
          ? error
          : new TransportError('network', `${(error as NodeJS.ErrnoException).code ?? error.message}`),
      );
    };
    req.once('error', fail);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxResponseBytes)
          return void req.destroy(new TransportError('too-large', `the answer exceeds ${maxResponseBytes} bytes`));
        chunks.push(chunk);
      });
      res.once('error', fail);
      res.once('aborted', () => fail(new TransportError('network', 'answer cut short')));
      res.once('end', () => {
        clearTimeout(timer);
        if (!res.complete) return fail(new TransportError('network', 'answer cut short'));
        const retryAfter = res.headers['retry-after'];
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end(body);
  });
