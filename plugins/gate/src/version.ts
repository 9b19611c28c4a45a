/** Kept equal to package.json's version (a test checks it); the build cannot import package.json. */
export const GATE_VERSION = '0.1.0'
