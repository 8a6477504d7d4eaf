/**
 * The e2e suites send the portals' operations exactly as the portals do: the text comes from the
 * project's own copy (@umi/clients), under the name those suites already use.
 */
export { operation as contractOperation } from '@umi/clients';
