import { scalarResolvers } from '@umi/kit';
import type { Resolvers } from '../generated/resolvers';
import { Branch } from './Branch';
import { InventoryBatch } from './InventoryBatch';
import { LowStockAlert } from './LowStockAlert';
import { Mutation } from './Mutation';
import { Product } from './Product';
import { PurchaseOrder } from './PurchaseOrder';
import { PurchaseOrderItem } from './PurchaseOrderItem';
import { Query } from './Query';
import { StockLevel } from './StockLevel';
import { StockMovement } from './StockMovement';
import { StockTransfer } from './StockTransfer';
import { StockTransferLine } from './StockTransferLine';

/** The inventory subgraph's resolvers, checked against its SDL by the generated `Resolvers` type. */
export const resolvers: Resolvers = {
  ...scalarResolvers,
  Query,
  Mutation,
  Product,
  Branch,
  StockLevel,
  InventoryBatch,
  StockMovement,
  StockTransfer,
  StockTransferLine,
  PurchaseOrder,
  PurchaseOrderItem,
  LowStockAlert,
};
