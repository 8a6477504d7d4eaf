import { startTestPlatform, type TestPlatform, createTenant, createUser } from '../../packages/testkit/src';

describe('smoke', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.close();
  });
  it('provisions a tenant and reads me', async () => {
    const t = await createTenant(p);
    const me = await p.gql('query { me { id email role tenant { id subdomain plan } branches { id } } }', {}, { token: t.adminToken });
    expect(me.errors).toBeUndefined();
    const c = await createUser(p, t, 'CASHIER', [t.branches[0]!.id]);
    const r = await p.gql('query { me { email branches { code } } branches { code } }', {}, { token: c.token });
    expect(r.data).toEqual({ me: { email: c.email, branches: [{ code: 'BR01' }] }, branches: [{ code: 'BR01' }] });
  });
});
