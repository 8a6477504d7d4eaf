/**
 * The one supply path of medicine, shared by the till (pos) and dispensing (pharmacy): a supply
 * consumes prescription items, takes stock once (through @umi/ledger), is priced and taxed once as
 * a sale booked to the seller's till session, and runs the same safety check.
 *
 * Lock order of every supply, so concurrent supplies queue instead of deadlocking:
 *   1. prescriptions (FOR UPDATE, id order), then their items (FOR UPDATE, id order);
 *   2. the till session (FOR SHARE; closing takes it FOR UPDATE);
 *   3. stock: product_branch_settings (product, branch order), then batches (@umi/ledger);
 *   4. last, the branch's sale number (`nextSaleNumber`): one row every sale of the branch locks
 *      until COMMIT, so it is held for as little of the transaction as possible.
 * Refunds take 2 then 3 and never 1.
 */
export * from './pricing';
export * from './reasons';
export * from './tills';
export * from './prescriptions';
export * from './sale';
export * from './safety/check';
export * from './safety/run';
