export { startVsdcSimulator, type VsdcSimulator, type VsdcSimulatorOptions, type VsdcControl, type DeviceIdentity } from './vsdc/server';
export { RESULT as VSDC_RESULT, VAT_CATEGORIES, CODE_CLASSES, type VatCategory } from './vsdc/codes';
export type { AcceptedInvoice, AcceptedStockMovement, FiscalReceipt } from './vsdc/state';
export { startMtnSimulator, MTN_TEST_ACCOUNT, type MtnSimulator, type MtnSimulatorOptions, type MtnControl, type MtnAccount, type MtnPayment, type MtnStatus } from './mtn/server';
export {
  startAirtelSimulator,
  AIRTEL_TEST_CLIENT,
  AIRTEL_TEST_CALLBACK_SECRET,
  type AirtelSimulator,
  type AirtelSimulatorOptions,
  type AirtelControl,
  type AirtelClient,
  type AirtelPayment,
} from './airtel/server';
export { airtelCallbackHash, type AirtelCallbackTransaction } from './airtel/hash';
export type { AirtelStatus } from './airtel/codes';
export type { Outcome, CallbackMode, PayerRule, PayerBehaviour } from './core/payers';
export type { BaseControl } from './core/control';
export type { DelayFault, FailFault, RespondFault, FaultScope } from './core/faults';
export type { RecordedRequest, RecordedCallback } from './core/recorder';
export { startCallbackSink, waitFor, type CallbackSink, type ReceivedCallback } from './testing';
export { startSimulators, type Simulators, type SimulatorsOptions, type SimulatorName } from './all';
