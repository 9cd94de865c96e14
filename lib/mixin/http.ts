import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A raw HTTP answer: status, headers that matter, body text. */
export interface RawResponse {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** The request never produced a complete answer. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly kind: 'network' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

/**
 * POSTs `body` and reads the whole answer, failing with a {@link TransportError} after `timeoutMs`
 * in total (connect + send + receive). Uses node:http(s) rather than fetch: see README "HTTP client".
 */
export const post = (url: URL, body: string, headers: Record<string, string>, timeoutMs: number): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = send(url, { method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } });
    const timer = setTimeout(() => {
      req.destroy(new TransportError('timeout', `no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error instanceof TransportError ? error : new TransportError('network', `${(error as NodeJS.ErrnoException).code ?? error.message}`));
    };
    req.once('error', fail);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', fail);
      res.once('aborted', () => fail(new TransportError('network', 'answer cut short')));
      res.once('end', () => {
        clearTimeout(timer);
        if (!res.complete) return fail(new TransportError('network', 'answer cut short'));
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(body);
  });
