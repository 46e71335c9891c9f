// Discord reports violations of its limits only at deploy time: check them on the derived JSON.
import type { APIApplicationCommandOption } from "discord-api-types/v10";
import { ApplicationCommandOptionType, ApplicationIntegrationType, InteractionContextType, PermissionFlagsBits } from "discord-api-types/v10";
import { describe, expect, it } from "vitest";
import { commandForSlash, slashCommands } from "../../../adapters/discord/slash-json.ts";
import { commandName } from "../../../commands/define.ts";
import { table } from "../../../commands/table.ts";

const NAME = /^[-_\p{Ll}\p{N}]{1,32}$/u;
const commands = slashCommands(table);

function walk(options: readonly APIApplicationCommandOption[] | undefined, visit: (o: APIApplicationCommandOption, depth: number) => void, depth = 1): void {
  for (const o of options ?? []) {
    visit(o, depth);
    if ("options" in o && (o.type === ApplicationCommandOptionType.Subcommand || o.type === ApplicationCommandOptionType.SubcommandGroup))
      walk(o.options, visit, depth + 1);
  }
}

describe("slash commands derived from the table", () => {
  it("GIVEN the table THEN every command is reachable as a slash command and maps back to itself", () => {
    for (const c of table) {
      const [name, ...rest] = c.path;
      const group = rest.length === 2 ? rest[0]! : null;
      const sub = rest.length === 2 ? rest[1]! : (rest[0] ?? null);
      expect(commandForSlash(table, name!, group, sub), commandName(c)).toBe(c);
      const top = commands.find((x) => x.name === name);
      expect(top, commandName(c)).toBeDefined();
    }
  });

  it("GIVEN Discord's limits THEN names, descriptions, option counts and order all fit", () => {
    expect(commands.length).toBeLessThanOrEqual(100);
    for (const c of commands) {
      expect(c.name).toMatch(NAME);
      expect(c.description.length).toBeGreaterThan(0);
      expect(c.description.length).toBeLessThanOrEqual(100);
      expect((c.options ?? []).length).toBeLessThanOrEqual(25);
      expect(JSON.stringify(c).length).toBeLessThan(8000);
      const checkLevel = (opts: readonly APIApplicationCommandOption[] | undefined) => {
        const list = opts ?? [];
        expect(list.length).toBeLessThanOrEqual(25);
        const names = list.map((o) => o.name);
        expect(new Set(names).size).toBe(names.length);
        let seenOptional = false;
        for (const o of list) {
          if (o.type === ApplicationCommandOptionType.Subcommand || o.type === ApplicationCommandOptionType.SubcommandGroup) continue;
          if (!o.required) seenOptional = true;
          else expect(seenOptional, `${c.name}: required option ${o.name} after an optional one`).toBe(false);
        }
      };
      checkLevel(c.options);
      walk(c.options, (o) => {
        expect(o.name).toMatch(NAME);
        expect(o.description.length).toBeGreaterThan(0);
        expect(o.description.length).toBeLessThanOrEqual(100);
        if ("choices" in o && o.choices) expect(o.choices.length).toBeLessThanOrEqual(25);
        if ("options" in o) checkLevel(o.options);
      });
    }
  });

  it("GIVEN argument kinds THEN options are typed with their limits", () => {
    const task = commands.find((c) => c.name === "task")!;
    const post = task.options!.find((o) => o.name === "post") as { options: APIApplicationCommandOption[] };
    const byName = Object.fromEntries(post.options.map((o) => [o.name, o]));
    expect(byName.project).toMatchObject({ type: ApplicationCommandOptionType.String, required: true, autocomplete: true });
    expect(byName.hours).toMatchObject({ type: ApplicationCommandOptionType.Number, required: true, min_value: 0.25, max_value: 1000 });
    expect(byName.slots).toMatchObject({ type: ApplicationCommandOptionType.Integer, required: false, min_value: 1, max_value: 100 });
    const verify = task.options!.find((o) => o.name === "verify") as { options: APIApplicationCommandOption[] };
    expect(verify.options.find((o) => o.name === "member")).toMatchObject({ type: ApplicationCommandOptionType.User, required: true });
    expect(verify.options.find((o) => o.name === "id")).toMatchObject({ type: ApplicationCommandOptionType.Integer, autocomplete: true });
    const project = commands.find((c) => c.name === "project")!;
    const coordinator = project.options!.find((o) => o.name === "coordinator")!;
    expect(coordinator.type).toBe(ApplicationCommandOptionType.SubcommandGroup);
    const list = commands.find((c) => c.name === "goal")!.options!.find((o) => o.name === "list") as { options: APIApplicationCommandOption[] };
    expect(list.options.find((o) => o.name === "status")).toMatchObject({
      choices: [
        { name: "open", value: "open" },
        { name: "done", value: "done" },
        { name: "all", value: "all" },
      ],
    });
  });
});

describe("where slash commands are offered, and to whom", () => {
  it("GIVEN the table THEN no command uses the deprecated dm_permission; each is installed to servers (integration_types [0])", () => {
    for (const c of commands) {
      expect(c, c.name).not.toHaveProperty("dm_permission");
      expect(c.integration_types, c.name).toEqual([ApplicationIntegrationType.GuildInstall]);
    }
  });

  it("GIVEN /help and /me link work outside a pool THEN /help and /me are offered in the bot's DMs too; the rest only in servers", () => {
    const contexts = Object.fromEntries(commands.map((c) => [c.name, c.contexts]));
    expect(contexts.help).toEqual([InteractionContextType.Guild, InteractionContextType.BotDM]);
    expect(contexts.me).toEqual([InteractionContextType.Guild, InteractionContextType.BotDM]);
    for (const name of ["pool", "project", "task", "good", "goal", "kind", "sector"]) expect(contexts[name], name).toEqual([InteractionContextType.Guild]);
  });

  it('GIVEN a top-level command all of whose commands bind rooms THEN it needs Manage Channels (default_member_permissions "16"); mixed groups are open to all', () => {
    for (const c of commands) expect(c.default_member_permissions ?? null, c.name).toBeNull();
    const binding = table.filter((c) => c.bindsRoom);
    const [pool] = slashCommands(binding.filter((c) => c.path[0] === "pool"));
    expect(pool!.name).toBe("pool");
    expect(pool!.default_member_permissions).toBe(String(PermissionFlagsBits.ManageChannels));
    expect(pool!.default_member_permissions).toBe("16");
    // Only servers have channels to manage: not offered in DMs.
    expect(pool!.contexts).toEqual([InteractionContextType.Guild]);
  });
});

describe("invite", () => {
  it("GIVEN the bot's needs THEN the invite asks for View Channels, Send Messages, Embed Links and Attach Files (52224)", async () => {
    const { INVITE_PERMISSIONS, inviteUrl } = await import("../../../adapters/discord/deploy.ts");
    expect(INVITE_PERMISSIONS).toBe(52224n);
    expect(INVITE_PERMISSIONS & 32768n).toBe(32768n);
    expect(inviteUrl("123456789012345678")).toBe(
      "https://discord.com/oauth2/authorize?client_id=123456789012345678&scope=bot%20applications.commands&permissions=52224",
    );
  });
});
