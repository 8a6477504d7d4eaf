import express, { type Express } from 'express';
import type { FieldCipher } from '@umi/kit';
import type { SubgraphRuntime } from '@umi/subgraph';
import { airtelHashOk, sameSecret } from './providers';
import { loadProviderConfig } from './settings';
import type { MobileMoneyWorker } from './worker';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

/** Our reference in a provider's callback: MTN's carries it in the URL we gave (and as externalId); Airtel's as transaction.id. */
function referenceOf(provider: 'mtn' | 'airtel', query: Record<string, unknown>, body: Record<string, unknown>): string | null {
  const candidates = provider === 'mtn' ? [query.ref, body.referenceId, body.externalId] : [obj(body.transaction).id];
  const ref = candidates.find((c): c is string => typeof c === 'string' && UUID.test(c));
  return ref?.toLowerCase() ?? null;
}

/**
 * Provider callbacks (the gateway forwards POST/PUT /callbacks/{mtn,airtel}/:secret here). The
 * tenant comes from our reference through the platform's index, never from the body; the secret
 * in the URL must be that tenant's, and an Airtel callback's hash must verify with it. A callback
 * is only a hint: the worker asks the provider's status call at once, and that decides. Answers
 * 200 to every authentic callback (duplicate, late, for a final attempt alike), 404 otherwise, so
 * a prober learns nothing about which references exist.
 */
export function callbackRoutes(runtime: SubgraphRuntime, cipher: FieldCipher | null, worker: MobileMoneyWorker) {
  const log = runtime.logger.child({ component: 'mobile-money-callbacks' });
  const accepted = runtime.metrics.counter('mobile_money_callbacks_total', 'Authentic provider callbacks received (duplicates and late ones included)');
  const refused = runtime.metrics.counter('mobile_money_callbacks_refused_total', 'Provider callbacks refused: unknown reference, wrong secret or hash');
  return (app: Express) => {
    app.all('/callbacks/:provider/:secret', express.json({ limit: '64kb', type: () => true }), (req, res) => {
      const provider = String(req.params.provider);
      if ((req.method !== 'POST' && req.method !== 'PUT') || (provider !== 'mtn' && provider !== 'airtel')) {
        res.status(404).json({ error: 'not found' });
        return;
      }
      const body = obj(req.body);
      const refuse = (outcome: string) => {
        refused.inc();
        log.warn({ provider, outcome }, 'callback refused');
        res.status(404).json({ error: 'not found' });
      };
      void (async () => {
        const reference = referenceOf(provider, obj(req.query), body);
        if (!reference) return refuse('no_reference');
        const tenant = await worker.tenantOf(reference);
        if (!tenant || tenant.status !== 'active') return refuse('unknown_reference');
        const db = runtime.data.tenantDb(tenant);
        const cfg = await loadProviderConfig(db, cipher, tenant.id, provider.toUpperCase());
        if (!cfg || !sameSecret(cfg.secrets.callbackSecret, String(req.params.secret))) return refuse('bad_secret');
        if (provider === 'airtel' && !airtelHashOk(cfg.secrets.callbackSecret, obj(body.transaction), body.hash)) return refuse('bad_hash');
        const attempt = await db.paymentAttempt.findUnique({ where: { id: reference }, select: { id: true, provider: true, finalizedAt: true } });
        if (!attempt || attempt.provider !== provider.toUpperCase()) return refuse('unknown_reference');
        await db.paymentAttempt.update({ where: { id: reference }, data: { callbacks: { increment: 1 } } });
        accepted.inc();
        if (!attempt.finalizedAt) worker.kick(tenant, [reference]);
        res.status(200).json({ ok: true });
      })().catch((err: unknown) => {
        log.error({ err }, 'callback failed');
        if (!res.headersSent) res.status(500).json({ error: 'internal error' });
      });
    });
  };
}
