/** Matches package.json's version (a test checks). */
export const SHARED_VERSION = '0.1.0'
