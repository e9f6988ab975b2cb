// The part of autocannon's API the flood tests use (the package ships no types; the bench calls it
// from plain JavaScript in bench/load-worker.mjs).
declare module 'autocannon' {
  interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
  }
  interface Options {
    url: string;
    connections?: number;
    amount?: number;
    duration?: number;
    timeout?: number;
    requests?: { setupRequest?: (request: Request) => Request }[];
  }
  interface Result {
    errors: number;
    timeouts: number;
  }
  interface Instance extends PromiseLike<Result> {
    on(event: 'response', listener: (client: unknown, statusCode: number) => void): this;
  }
  export default function autocannon(options: Options): Instance;
}
