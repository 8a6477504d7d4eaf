import { sql, tables } from '@umi/db';
import type { Product } from '@umi/db/tenant-models';

/**
 * Columns of `products` (alias `p`) under the names and types of Prisma's Product model. The hot
 * reads (catalogue page, barcode scan, product by id) run as tagged SQL with these, so a request
 * that only reads never builds the tenant's Prisma client (see TenantClients).
 */
export const PRODUCT_FIELDS = sql`p.id::text AS "id", p.sku AS "sku", p.name AS "name", p.generic_name AS "genericName",
  p.atc_code AS "atcCode", p.category AS "category", p.description AS "description",
  p.manufacturer AS "manufacturer", p.strength AS "strength", p.form AS "form", p.barcode AS "barcode",
  p.requires_prescription AS "requiresPrescription", p.controlled_substance AS "controlledSubstance",
  p.tax_category AS "taxCategory", p.storage_requirements AS "storageRequirements",
  p.unit_of_measure AS "unitOfMeasure", p.is_active AS "isActive", p.created_at AS "createdAt",
  p.updated_at AS "updatedAt", p.deleted_at AS "deletedAt"`;

/** `FROM products p`, for queries written with PRODUCT_FIELDS. */
export const PRODUCTS_P = sql`${tables.products} p`;

/** The row type PRODUCT_FIELDS yields. */
export type ProductRow = Product;
