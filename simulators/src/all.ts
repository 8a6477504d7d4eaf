import { AIRTEL_TEST_CALLBACK_SECRET, AIRTEL_TEST_CLIENT, startAirtelSimulator, type AirtelSimulator, type AirtelSimulatorOptions } from './airtel/server';
import { MTN_TEST_ACCOUNT, startMtnSimulator, type MtnSimulator, type MtnSimulatorOptions } from './mtn/server';
import { startVsdcSimulator, type VsdcSimulator, type VsdcSimulatorOptions } from './vsdc/server';

export type SimulatorName = 'vsdc' | 'mtn' | 'airtel';

export interface SimulatorsOptions {
  /** Which to start (default all three). */
  only?: readonly SimulatorName[];
  /** Listening address of all three (default 127.0.0.1). */
  host?: string;
  vsdc?: VsdcSimulatorOptions;
  mtn?: MtnSimulatorOptions;
  airtel?: AirtelSimulatorOptions;
}

export interface Simulators {
  vsdc?: VsdcSimulator;
  mtn?: MtnSimulator;
  airtel?: AirtelSimulator;
  /** What a person starting them should read: that they are simulators, where, and the test credentials. */
  describe(): string[];
  close(): Promise<void>;
}

/** Starts the simulators side by side, e.g. for `npm start` or a docker-compose service. */
export async function startSimulators(options: SimulatorsOptions = {}): Promise<Simulators> {
  const only = new Set(options.only ?? ['vsdc', 'mtn', 'airtel']);
  const host = options.host ?? '127.0.0.1';
  const started: Simulators = {
    describe: () => describe(started),
    close: async () => {
      await Promise.all([started.vsdc?.close(), started.mtn?.close(), started.airtel?.close()]);
    },
  };
  try {
    if (only.has('vsdc')) started.vsdc = await startVsdcSimulator({ host, ...options.vsdc });
    if (only.has('mtn')) started.mtn = await startMtnSimulator({ host, ...options.mtn });
    if (only.has('airtel')) started.airtel = await startAirtelSimulator({ host, ...options.airtel });
  } catch (err) {
    await started.close();
    throw err;
  }
  return started;
}

function describe({ vsdc, mtn, airtel }: Simulators): string[] {
  const lines = ['SIMULATORS: stand-ins for ZRA, MTN and Airtel, for development and tests. Nothing here is fiscal or moves money.'];
  if (vsdc) {
    lines.push(`  ZRA Smart Invoice VSDC (simulated): ${vsdc.url}   any TPIN/bhfId/dvcSrlNo may initialise; control: ${vsdc.origin}/__control`);
  }
  if (mtn) {
    lines.push(
      `  MTN MoMo Collections (simulated):    ${mtn.url}   environment mtnzambia, currency ZMW; control: ${mtn.url}/__control`,
      `    API user ${MTN_TEST_ACCOUNT.apiUser}, API key ${MTN_TEST_ACCOUNT.apiKey}, subscription key ${MTN_TEST_ACCOUNT.subscriptionKey}`,
    );
  }
  if (airtel) {
    lines.push(
      `  Airtel Money (simulated):            ${airtel.url}   X-Country ZM, X-Currency ZMW; control: ${airtel.url}/__control`,
      `    client id ${AIRTEL_TEST_CLIENT.clientId}, client secret ${AIRTEL_TEST_CLIENT.clientSecret}, callback secret ${AIRTEL_TEST_CALLBACK_SECRET}`,
    );
  }
  if (mtn || airtel) lines.push('  Payers approve after 1 s unless told otherwise (POST /__control {"action":"payer",...}).');
  return lines;
}
