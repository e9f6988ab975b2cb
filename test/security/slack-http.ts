import { request } from 'node:http';

/**
 * A POST to the bot on a connection of its own (no keep-alive pool), with headers exactly as given
 * (arrays become repeated headers): for hostile requests that fetch would refuse to send, and so
 * that a connection the bot closes after a refusal never poisons the next test's request.
 */
export function rawPost(
  baseUrl: string,
  path: string,
  body: string | Buffer,
  headers: Record<string, string | string[]>,
): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    // A server that refuses early may close before the whole body is written; the status is what counts.
    req.on('error', reject);
    req.end(body);
  });
}
