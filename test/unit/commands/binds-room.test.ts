// Commands that bind a room are marked once in the table; help tells who may run them.
import { describe, expect, it } from "vitest";
import { commandName } from "../../../commands/define.ts";
import { table } from "../../../commands/table.ts";
import { testPool, text } from "../../support/app.ts";

describe("room-binding commands", () => {
  it("GIVEN the table THEN exactly the commands that bind a room to a pool or project are marked", () => {
    const marked = table
      .filter((c) => c.bindsRoom)
      .map(commandName)
      .sort();
    expect(marked).toEqual(["pool create", "pool join", "project room"]);
  });

  it("GIVEN help for a binding command THEN it names the right to manage the room on each platform, for any who may run it", async () => {
    const t = await testPool();
    try {
      for (const name of ["pool create", "pool join", "project room"]) {
        const r = await t.say("alice", `help ${name}`);
        expect(r.ok).toBe(true);
        expect(text(r), name).toContain("needs the right to manage the room: Manage Channels on Discord, the power to change room settings on Matrix");
      }
      const join = text(await t.say("alice", "help pool join"));
      expect(join).toContain("Who may run it: anyone; it needs the right to manage the room");
      expect(text(await t.say("alice", "help project room"))).toContain(
        "Who may run it: coordinator of the project or pool admin; it needs the right to manage the room",
      );
      // Other commands say nothing of it.
      expect(text(await t.say("alice", "help pool info"))).not.toContain("manage the room");
      expect(await t.ok("alice", "help pool join")).toMatchObject({ topic: "command", name: "pool join", bindsRoom: true });
      expect(await t.ok("alice", "help pool info")).toMatchObject({ topic: "command", name: "pool info", bindsRoom: false });
    } finally {
      await t.close();
    }
  });
});
