import {
  AIRTEL_TEST_CALLBACK_SECRET,
  AIRTEL_TEST_CLIENT,
  MTN_TEST_ACCOUNT,
  startSimulators,
  type SimulatorName,
  type Simulators,
} from '@umi/simulators';

/** The secret the demo tenant's MTN callback URL carries (the simulator's Airtel one for Airtel). */
export const DEMO_MTN_CALLBACK_SECRET = 'umi-demo-mtn-callback-secret';

/** How the demo tenant reaches one simulated provider: what configureMobileMoney takes. */
export interface DemoMobileMoneySettings {
  provider: 'MTN' | 'AIRTEL';
  baseUrl: string;
  environment: string;
  apiUser?: string;
  apiKey?: string;
  subscriptionKey?: string;
  clientId?: string;
  clientSecret?: string;
  callbackSecret: string;
  callbackBaseUrl: string;
}

export interface DevSimulators {
  simulators: Simulators;
  /** The demo tenant's mobile-money settings against the simulators that were started. */
  mobileMoney: DemoMobileMoneySettings[];
  close(): Promise<void>;
}

/**
 * The stand-ins `npm start` runs for the demo tenant when no real provider is configured: one
 * place for every simulator the platform talks to (mobile money here; the VSDC joins the `only`
 * list). They listen on free ports of 127.0.0.1; `callbackOrigin` is the gateway's origin, which
 * the providers call back.
 */
export async function startDevSimulators(opts: { callbackOrigin: string; only?: SimulatorName[] }): Promise<DevSimulators> {
  const only = opts.only ?? ['mtn', 'airtel'];
  const simulators = await startSimulators({
    only,
    mtn: { port: 0 },
    airtel: { port: 0, callbackUrl: `${opts.callbackOrigin}/callbacks/airtel/${AIRTEL_TEST_CALLBACK_SECRET}` },
  });
  const mobileMoney: DemoMobileMoneySettings[] = [];
  if (simulators.mtn) {
    mobileMoney.push({
      provider: 'MTN',
      baseUrl: simulators.mtn.url,
      environment: 'mtnzambia',
      apiUser: MTN_TEST_ACCOUNT.apiUser,
      apiKey: MTN_TEST_ACCOUNT.apiKey,
      subscriptionKey: MTN_TEST_ACCOUNT.subscriptionKey,
      callbackSecret: DEMO_MTN_CALLBACK_SECRET,
      callbackBaseUrl: opts.callbackOrigin,
    });
  }
  if (simulators.airtel) {
    mobileMoney.push({
      provider: 'AIRTEL',
      baseUrl: simulators.airtel.url,
      environment: 'staging',
      clientId: AIRTEL_TEST_CLIENT.clientId,
      clientSecret: AIRTEL_TEST_CLIENT.clientSecret,
      callbackSecret: AIRTEL_TEST_CALLBACK_SECRET,
      callbackBaseUrl: opts.callbackOrigin,
    });
  }
  return { simulators, mobileMoney, close: () => simulators.close() };
}
