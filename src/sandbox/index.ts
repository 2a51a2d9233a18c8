// sandbox/: the embedded sandbox upstream `npm start` serves on loopback, with its seed data.

export { startSandboxUpstream } from './server.js';
export type { SandboxUpstream } from './server.js';
export { SANDBOX_TOKENS } from './data.js';
