import net from 'node:net';
import { createSubgraphFetcher } from './subgraph-fetch';
import { fetchFailure } from './unavailable';

/** A server that reads the request and drops the connection without answering: a subgraph killed mid-request. */
async function dyingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = net.createServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The gateway's subgraph fetcher (what `fetchFailure` sees in production), with an agent per test file. */
const subgraphFetch = createSubgraphFetcher();
afterAll(() => subgraphFetch.agent.destroy());

async function failureOf(url: string): Promise<unknown> {
  try {
    await subgraphFetch(url, { method: 'POST', body: '{}' });
  } catch (err) {
    return err;
  }
  throw new Error('the request did not fail');
}

describe('fetchFailure', () => {
  it('calls a mutation cut mid-flight OUTCOME_UNKNOWN, a query cut mid-flight SERVICE_UNAVAILABLE, both retryable', async () => {
    const server = await dyingServer();
    try {
      const err = await failureOf(server.url);
      expect(fetchFailure('mutation { createSale(input: {}) { id } }', err)?.extensions).toMatchObject({ code: 'OUTCOME_UNKNOWN', retryable: true });
      expect(fetchFailure('query { sale(id: "x") { id } }', err)?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    } finally {
      await server.close();
    }
  });

  it('calls a refused connection SERVICE_UNAVAILABLE even for a mutation: it never arrived', async () => {
    const server = await dyingServer();
    await server.close();
    const err = await failureOf(server.url);
    expect(fetchFailure('mutation { createSale(input: {}) { id } }', err)?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
  });

  it('leaves errors that are not transport failures alone', () => {
    expect(fetchFailure('query { a }', new Error('Expected "data._entities" in response to be an array'))).toBeNull();
    expect(fetchFailure('mutation { a }', new TypeError("Cannot read properties of undefined (reading 'x')"))).toBeNull();
  });
});
