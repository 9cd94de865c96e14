/** What the two baseline handlers share with the measured one: the event they take and the answer they give. */
import type { OutgoingHttpHeaders, request as httpRequest } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** The keystore the baselines read from the environment (the dashboard JSON), as a user of the SDK typically does. */
export interface DashboardKeystore {
  app_id: string;
  session_id: string;
  server_public_key: string;
  session_private_key: string;
}

export const keystoreFromEnv = (): DashboardKeystore =>
  JSON.parse(process.env.BENCH_KEYSTORE_JSON ?? '{}') as DashboardKeystore;

/** The user a `POST /contacts` body names (no validation: the baselines trust their input). */
export const contactUser = (event: HttpEvent): string =>
  (JSON.parse(event.body ?? '{}') as { participants: { user_id: string }[] }).participants[0]!.user_id;

export const created = (data: unknown): HttpResult => ({
  statusCode: 201,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ data }),
});

/**
 * One POST with node:http, the answer's body as text. `request` is passed in, so that the caller alone decides how
 * node:http is loaded (bench/runners/http-first.ts measures exactly that); nothing here imports it.
 */
export const postText = (
  request: typeof httpRequest,
  url: string | URL,
  headers: OutgoingHttpHeaders,
  body: string,
): Promise<string> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
