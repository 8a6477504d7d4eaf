import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeSupergraph, ROOT, SUPERGRAPH_FILE } from '@umi/platform';

/** Operations whose issues have landed; the list grows as the domain subgraphs do. */
const LANDED = [
  // issue 2: auth, tenants, branches, users
  ...['Login', 'Refresh', 'Logout', 'Me', 'CreateTenant', 'Tenants', 'CreateBranch', 'Branches', 'CreateUser', 'Users', 'AuditLog'],
  // issue 3: inventory
  ...['CreateProduct', 'Products', 'ProductByBarcode', 'ReceiveStock', 'AdjustStock', 'TransferStock', 'BranchStock', 'ExpiringStock', 'StockMovements'],
  // issue 4: pos
  ...['CreateSale', 'Sale', 'RefundSale', 'Sales', 'SalesReport'],
  // issue 5: pharmacy
  ...['CreatePatient', 'Patients', 'PatientChart', 'CreatePrescription', 'InteractionCheck', 'DispensePrescription', 'Prescriptions', 'ControlledRegister'],
  // issue 6: live dashboards
  ...['SaleCompleted', 'LowStock'],
];

describe('supergraph', () => {
  it('composes without errors and matches the committed supergraph.graphql (run `npm run compose`)', () => {
    expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(composeSupergraph());
  });

  it('validates the portal contract operations of the landed issues (../shared/tools/contract-check.mjs)', () => {
    const script = join(ROOT, '..', 'shared', 'tools', 'contract-check.mjs');
    const out = execFileSync(process.execPath, [script, ...LANDED], { cwd: ROOT, encoding: 'utf8' });
    expect(out.trim().split('\n').pop()).toBe(`${LANDED.length}/${LANDED.length} contract operations valid against supergraph.graphql`);
  });
});
