/** Matches package.json's version (a test checks). */
export const EVIDENCE_VERSION = '0.1.0'
