// The Matrix adapter's small pieces: what a failed request means, transaction ids, and the
// state file (atomic writes, files of earlier versions still load).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MatrixError } from "@vector-im/matrix-bot-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { troubleOf, txnIdOf } from "../../adapters/matrix/http.ts";
import { StateFile } from "../../adapters/matrix/state.ts";

describe("Matrix: what a failed request means", () => {
  it.each([
    [new MatrixError({ errcode: "M_LIMIT_EXCEEDED", error: "Too Many Requests", retry_after_ms: 1234 }, 429), { kind: "rate", afterMs: 1234 }],
    [new MatrixError({ errcode: "M_UNKNOWN_TOKEN", error: "Unknown access token" }, 401), { kind: "token" }],
    [new MatrixError({ errcode: "M_FORBIDDEN", error: "User not in room" }, 403), { kind: "forbidden" }],
    [new MatrixError({ errcode: "M_UNKNOWN", error: "Internal server error" }, 500), { kind: "down" }],
    [new MatrixError({ errcode: "M_TOO_LARGE", error: "too big" }, 413), { kind: "refused" }],
    [Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8008"), { code: "ECONNREFUSED" }), { kind: "down" }],
    [Object.assign(new Error("ESOCKETTIMEDOUT"), { code: "ESOCKETTIMEDOUT" }), { kind: "down" }],
    [{ statusCode: 502, statusMessage: "Bad Gateway", body: "<html>" }, { kind: "down" }],
    [
      { statusCode: 429, headers: { "retry-after": "3" } },
      { kind: "rate", afterMs: 3000 },
    ],
    [new TypeError("x is undefined"), { kind: "refused" }],
  ])("GIVEN %s THEN %j", (e, expected) => {
    expect(troubleOf(e)).toMatchObject(expected);
  });
});

describe("Matrix transaction ids", () => {
  it("GIVEN the same key THEN the same id; another key or salt THEN another; always a valid txnId", () => {
    expect(txnIdOf("reply:matrix:$abc")).toBe(txnIdOf("reply:matrix:$abc"));
    expect(txnIdOf("reply:matrix:$abc")).not.toBe(txnIdOf("reply:matrix:$abd"));
    expect(txnIdOf("outbox:1", 1000)).not.toBe(txnIdOf("outbox:1", 1001));
    expect(txnIdOf("outbox:1", 1000)).toMatch(/^[A-Za-z0-9._~-]{1,64}$/);
  });
});

describe("Matrix state file", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("GIVEN a file written by SimpleFsStorageProvider (an earlier version) THEN it loads, and the old answered list is dropped", () => {
    dir = mkdtempSync(join(tmpdir(), "dpool-state-"));
    const file = join(dir, "matrix-state.json");
    writeFileSync(
      file,
      JSON.stringify(
        {
          syncToken: "s42",
          filter: { id: 1, filter: {} },
          appserviceUsers: {},
          appserviceTransactions: {},
          kvStore: { "dpool.joined.!r:x": "5", "dpool.answered": '["$a"]' },
        },
        null,
        2,
      ),
    );
    const s = new StateFile(file);
    expect(s.getSyncToken()).toBe("s42");
    expect(s.getFilter()).toEqual({ id: 1, filter: {} });
    expect(s.readValue("dpool.joined.!r:x")).toBe("5");
    expect(s.readValue("dpool.answered")).toBeUndefined();
    expect(JSON.parse(readFileSync(file, "utf8")).kvStore["dpool.answered"]).toBeUndefined();
  });

  it("GIVEN a batch THEN one write at its end, through a temporary file renamed over the old one", () => {
    dir = mkdtempSync(join(tmpdir(), "dpool-state-"));
    const file = join(dir, "matrix-state.json");
    const s = new StateFile(file);
    s.batch(() => {
      s.storeValue("dpool.handled.!r:x", "$e1");
      s.setSyncToken("s7");
      // Nothing written yet: a crash here leaves the old state whole.
      expect(existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).syncToken : null).toBeNull();
    });
    const again = new StateFile(file);
    expect(again.getSyncToken()).toBe("s7");
    expect(again.readValue("dpool.handled.!r:x")).toBe("$e1");
    expect(readdirSync(dir)).toEqual(["matrix-state.json"]);
  });
});
