// Setup file of the "postgres" test project: each test file drops its databases at its end.
import { afterAll } from "vitest";
import { dropPgDatabases } from "./pg.ts";

afterAll(dropPgDatabases);
