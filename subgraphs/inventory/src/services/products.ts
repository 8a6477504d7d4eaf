import { z } from 'zod';
import { BadUserInputError, decodeCursor, encodeCursor, escapeLike, NotFoundError, pageSizeSchema, parseInput, toConnection, uuidSchema } from '@umi/kit';
import { recordAudit, sql, type TenantTx } from '@umi/db';
import type { TenantPrisma } from '@umi/db/tenant-models';
import { requireTenant } from '@umi/subgraph';
import { auditOf, requireBranch } from '../policy';
import type { InventoryContext } from '../context';
import { PRODUCT_FIELDS, PRODUCTS_P, type ProductRow } from '../product-rows';
import { decimalSchema } from './money';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullish()
    .transform((v) => (v === undefined ? undefined : v ? v : null));

const productFields = {
  sku: text(100).transform((s) => s.toUpperCase()),
  name: text(255),
  genericName: optionalText(255).transform((v) => (v ? v.toLowerCase() : v)),
  atcCode: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$/, 'must be an ATC code such as J01CA04')
    .nullish(),
  category: optionalText(100),
  description: optionalText(2000),
  manufacturer: optionalText(255),
  strength: optionalText(100),
  form: optionalText(100),
  barcode: z
    .string()
    .trim()
    .regex(/^[0-9A-Za-z-]{4,64}$/, 'must be 4 to 64 letters, digits or -')
    .nullish(),
  unitOfMeasure: text(30).transform((s) => s.toUpperCase()),
  requiresPrescription: z.boolean(),
  controlledSubstance: z.boolean(),
  taxCategory: z.enum(['STANDARD', 'ZERO_RATED', 'EXEMPT']),
};

const createSchema = z.object({
  ...productFields,
  unitOfMeasure: productFields.unitOfMeasure.nullish(),
  taxCategory: productFields.taxCategory.nullish(),
});
const updateSchema = z
  .object(productFields)
  .partial()
  // A required column cannot be cleared.
  .refine((v) => ['sku', 'name', 'unitOfMeasure', 'requiresPrescription', 'controlledSubstance', 'taxCategory'].every((k) => v[k as keyof typeof v] !== null), {
    message: 'required fields cannot be null',
  });

/**
 * The tenant's default tax category for new products (the tenant subgraph's `default_tax_category`
 * setting), STANDARD when it was never set.
 */
async function defaultTaxCategory(tx: Pick<TenantTx, 'tenantSetting'>) {
  const setting = await tx.tenantSetting.findUnique({ where: { key: 'default_tax_category' } });
  return productFields.taxCategory.parse(setting?.value ?? 'STANDARD');
}

/**
 * Adds a product to the tenant's catalogue; SKU and barcode are unique (CONFLICT otherwise). Without
 * a tax category it takes the tenant's default, so a chain selling mostly zero-rated medicine sets it once.
 */
export async function createProduct(ctx: InventoryContext, input: unknown) {
  const { db } = requireTenant(ctx);
  const data = parseInput(createSchema, input);
  assertControlledIsPrescriptionOnly(data);
  return db.transaction(async (tx) => {
    const product = await tx.product.create({
      data: {
        ...data,
        unitOfMeasure: data.unitOfMeasure ?? 'EACH',
        taxCategory: data.taxCategory ?? (await defaultTaxCategory(tx)),
        genericName: data.genericName ?? null,
        atcCode: data.atcCode ?? null,
        barcode: data.barcode ?? null,
      },
    });
    await recordAudit(tx, { ...auditOf(ctx), action: 'CREATE', entityType: 'Product', entityId: product.id, newValues: product });
    return product;
  });
}

/**
 * A controlled substance is prescription-only (the database's products_controlled_is_prescription_only
 * says so too): a product that would be controlled and sold over the counter is BAD_USER_INPUT.
 */
function assertControlledIsPrescriptionOnly(p: { controlledSubstance: boolean; requiresPrescription: boolean }): void {
  if (p.controlledSubstance && !p.requiresPrescription) {
    throw new BadUserInputError('input.requiresPrescription: a controlled substance is prescription-only', {
      field: 'input.requiresPrescription',
      reason: 'CONTROLLED_REQUIRES_PRESCRIPTION',
    });
  }
}

async function changeProduct(
  ctx: InventoryContext,
  id: string,
  data: TenantPrisma.ProductUpdateInput,
  action: string,
  check: (before: { controlledSubstance: boolean; requiresPrescription: boolean }) => void = () => undefined,
) {
  const { db } = requireTenant(ctx);
  const productId = parseInput(uuidSchema, id, 'id');
  return db.transaction(async (tx) => {
    const before = await tx.product.findFirst({ where: { id: productId, deletedAt: null } });
    if (!before) throw new NotFoundError('Product', { field: 'id' });
    check(before);
    const after = await tx.product.update({ where: { id: productId }, data });
    await recordAudit(tx, { ...auditOf(ctx), action, entityType: 'Product', entityId: productId, oldValues: before, newValues: after });
    return after;
  });
}

export function updateProduct(ctx: InventoryContext, id: string, input: unknown) {
  const data = parseInput(updateSchema, input);
  return changeProduct(ctx, id, data as TenantPrisma.ProductUpdateInput, 'UPDATE', (before) =>
    assertControlledIsPrescriptionOnly({
      controlledSubstance: data.controlledSubstance ?? before.controlledSubstance,
      requiresPrescription: data.requiresPrescription ?? before.requiresPrescription,
    }),
  );
}

/** Stops stocking and selling a product; its batches and history stay. */
export function deactivateProduct(ctx: InventoryContext, id: string) {
  return changeProduct(ctx, id, { isActive: false }, 'DEACTIVATE');
}

const listSchema = z.object({
  search: z.string().trim().max(100).nullish(),
  includeInactive: z.boolean().nullish(),
  first: pageSizeSchema,
  after: z.string().max(500).nullish(),
});

/** The catalogue by name, keyset-paginated; `search` is a case-insensitive prefix of name, generic name or SKU. */
export async function listProducts(ctx: InventoryContext, rawArgs: unknown) {
  const { db } = requireTenant(ctx);
  const args = parseInput(listSchema, rawArgs, 'args');
  const after = args.after ? (decodeCursor(args.after, ['string', 'uuid']) as [string, string]) : null;
  // lower(column) LIKE 'prefix%' is what the *_prefix_idx indexes (text_pattern_ops) serve; ILIKE would not use them.
  const prefix = args.search ? `${escapeLike(args.search.toLowerCase())}%` : null;
  const rows = await ctx.loaders.cached('products', [], JSON.stringify([args.search ?? null, args.includeInactive === true, after, args.first]), () =>
    db.sql.query<ProductRow>(
      sql`SELECT ${PRODUCT_FIELDS} FROM ${PRODUCTS_P}
          WHERE p.deleted_at IS NULL
            AND (${args.includeInactive === true}::boolean OR p.is_active)
            AND (${prefix}::text IS NULL OR lower(p.name) LIKE ${prefix}::text OR lower(p.generic_name) LIKE ${prefix}::text OR lower(p.sku) LIKE ${prefix}::text)
            AND (${after?.[0] ?? null}::text IS NULL OR (p.name, p.id) > (${after?.[0] ?? null}::text, ${after?.[1] ?? null}::uuid))
          ORDER BY p.name, p.id
          LIMIT ${args.first + 1}::int`,
    ),
  );
  for (const p of rows.slice(0, args.first)) ctx.loaders.productById.prime(p.id, p);
  const cursor = (p: { name: string; id: string }) => encodeCursor([p.name, p.id]);
  return toConnection(rows, args.first, cursor);
}

/** The active product with this barcode, or null. */
export async function productByBarcode(ctx: InventoryContext, barcode: string) {
  const { db } = requireTenant(ctx);
  const code = barcode.trim();
  if (!code) return null;
  return ctx.loaders.cached('product_by_barcode', [], code, () =>
    db.sql.maybeOne<ProductRow>(sql`SELECT ${PRODUCT_FIELDS} FROM ${PRODUCTS_P} WHERE p.barcode = ${code} AND p.deleted_at IS NULL AND p.is_active`),
  );
}

const settingsSchema = z.object({
  branchId: uuidSchema,
  productId: uuidSchema,
  sellingPrice: decimalSchema.nullish(),
  reorderLevel: z.number().int().min(0).max(1_000_000).nullish(),
  reorderQuantity: z.number().int().min(0).max(1_000_000).nullish(),
});

/** Sets a product's shelf price and reorder rule at a branch. */
export async function setBranchProductSettings(ctx: InventoryContext, input: unknown) {
  const { db } = requireTenant(ctx);
  const data = parseInput(settingsSchema, input);
  const branch = await requireBranch(ctx, data.branchId, 'manage', 'input.branchId');
  const product = await db.product.findFirst({ where: { id: data.productId, deletedAt: null }, select: { id: true } });
  if (!product) throw new NotFoundError('Product', { field: 'input.productId' });
  const values = {
    ...(data.sellingPrice !== undefined ? { sellingPrice: data.sellingPrice } : {}),
    ...(data.reorderLevel != null ? { reorderLevel: data.reorderLevel } : {}),
    ...(data.reorderQuantity != null ? { reorderQuantity: data.reorderQuantity } : {}),
  };
  await db.transaction(async (tx) => {
    const row = await tx.productBranchSetting.upsert({
      where: { productId_branchId: { productId: data.productId, branchId: branch.id } },
      create: { productId: data.productId, branchId: branch.id, ...values },
      update: values,
    });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'UPDATE',
      entityType: 'ProductBranchSetting',
      entityId: `${data.productId}:${branch.id}`,
      branchId: branch.id,
      newValues: row,
    });
  });
  return { branch, productId: data.productId };
}
