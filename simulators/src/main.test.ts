import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { MTN_TEST_ACCOUNT } from './index';

const MAIN = join(__dirname, 'main.ts');

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${out} ${err}`)), 20_000);
    child.stdout.on('data', () => {
      if (out.includes('Press Ctrl-C')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    void exited.then(() => reject(new Error(`exited: ${err}`)));
  });
  // A run expected to fail is never awaited as ready.
  ready.catch(() => undefined);
  return { child, ready, exited, stderr: () => err };
}

describe('simulators as their own process', () => {
  it('starts all three, says they are simulators and where, answers, and stops cleanly on SIGTERM', async () => {
    const p = run(['--vsdc-port', '0', '--mtn-port', '0', '--airtel-port', '0']);
    const out = await p.ready;
    expect(out).toContain('SIMULATORS');
    const vsdc = /VSDC \(simulated\): (\S+)/.exec(out)![1]!;
    const mtn = /MTN MoMo Collections \(simulated\): +(\S+)/.exec(out)![1]!;
    const airtel = /Airtel Money \(simulated\): +(\S+)/.exec(out)![1]!;
    expect(vsdc).toMatch(/\/zravsdc$/);
    const init = await fetch(`${vsdc}/initializer/selectInitInfo`, { method: 'POST', body: JSON.stringify({ tpin: '1000000001', bhfId: '000', dvcSrlNo: 'MAIN' }) });
    expect(await init.json()).toMatchObject({ resultCd: '000' });
    const token = await fetch(`${mtn}/collection/token/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${MTN_TEST_ACCOUNT.apiUser}:${MTN_TEST_ACCOUNT.apiKey}`).toString('base64')}`, 'ocp-apim-subscription-key': MTN_TEST_ACCOUNT.subscriptionKey },
    });
    expect(token.status).toBe(200);
    expect((await fetch(`${airtel}/__control`)).status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('refuses bad arguments, naming them', async () => {
    const p = run(['--only', 'vsdc,zra']);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain('--only');
  });
});
