/** The RDS Data API stand-in: start it with `startDataApi`; see server.ts. */
export type { SecretSource, StoredSecret } from './credentials.ts';
export { type DataApiLimits, DEFAULT_DATA_API_LIMITS } from './limits.ts';
export { type DataApiHandle, type DataApiOptions, startDataApi } from './server.ts';
