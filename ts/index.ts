/** otr4: Off-the-Record messaging version 4. Public API. */
export { init, getBackend, activeBackend, loadBackend } from './backend/select.js';
export type { InitOptions, InitResult } from './backend/select.js';
export type { CryptoBackend, BackendName, DhGroupName } from './backend/types.js';
export * from './errors.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
