export { startSandboxUpstream } from './server.js';
export type { SandboxUpstream } from './server.js';
export { SANDBOX_TOKENS } from './data.js';
