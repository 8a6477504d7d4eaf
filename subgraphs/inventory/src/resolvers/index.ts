import { scalarResolvers } from '@umi/kit';
import { Query } from './Query';
import { Mutation } from './Mutation';
import { Branch, InventoryBatch, LowStockAlert, Product, PurchaseOrder, PurchaseOrderItem, StockLevel, StockMovement, StockTransfer, StockTransferLine } from './types';

export const resolvers = {
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
