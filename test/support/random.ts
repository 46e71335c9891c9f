// A small seeded generator for tests that pick moments and members at random: the same seed
// gives the same choices on every run.
export { mulberry32 } from "../../src/core/random.ts";
