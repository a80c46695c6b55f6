export { BatisimplyClient, createBatisimplyDispatcher, isoZ } from './client.js';
export type { BatisimplyClientDeps, QuoteInput } from './client.js';
export { BATISIMPLY_PATHS, tokenUrl } from './paths.js';
export { mapLimited, Limiter, parseRetryAfter, backoffDelay } from './retry.js';
