// Types of bin/build.js for the TypeScript that imports it (the tests).
export declare const ROOT: string;
export declare const DIST: string;
/** True when dist/ holds a build of exactly the sources there are now. */
export declare function isFresh(): boolean;
/** Compiles the sources into dist/ (always). */
export declare function build(): void;
/** Builds dist/ unless it is fresh; true when it built. */
export declare function ensureBuilt(say?: (line: string) => void): boolean;
