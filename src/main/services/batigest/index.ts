export { BatigestGateway, type BatigestGatewayOptions, type GatewayStats, type ReadOptions, type SuiviMoResult, type SkippedSourceRow } from './gateway.js';
export { parseServerAddress, buildMssqlConfig, describeTarget } from './config.js';
export { classifySqlError } from './errors.js';
export { TABLE_SPECS, detectTable, resolveMapping } from './columns.js';
export { planSuiviMo } from './suivimo.js';
export { normaliseBatigestCode } from './rows.js';
