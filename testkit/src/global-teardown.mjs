export default async function globalTeardown() {
  await globalThis.__umiEmbeddedPostgres?.stop();
}
