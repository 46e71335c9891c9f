// pool ...: create a pool, bind rooms to it, read and change its policy, audit its ledger.
import { formatHours, toHours } from "../src/core/amounts.ts";
import { describeRange, formatPolicyValue, POLICY_KEY_NAMES, POLICY_KEYS, policyValueJson, type Policy } from "../src/core/policy.ts";
import * as pools from "../src/services/pools.ts";
import { arg } from "./args.ts";
import { defineCommand } from "./define.ts";
import { doc } from "./doc.ts";
import { plural, when } from "./present.ts";

const policyJson = (p: Policy) => Object.fromEntries(POLICY_KEY_NAMES.map((k) => [k, policyValueJson(k, p[k])]));

export const poolCommands = [
  defineCommand({
    path: ["pool", "create"],
    where: "anywhere",
    summary: "Start a pool here: this room becomes its lobby and you its first admin",
    details:
      "A pool joins several projects that share tasks, goods and one ledger of weighted hours. The room you type this in becomes the pool's lobby. Other rooms, on any platform, join with an invite code (pool invite, then pool join).",
    access: "anyone",
    bindsRoom: true,
    mutates: true,
    args: { name: arg.text("Name of the pool", { max: 80, placeholder: "name" }).rest() },
    examples: ['pool create "Riverside commons"'],
    run: (ctx, a) => pools.createPool(ctx, a.name),
    render: (d) => [
      doc.line("Pool ", doc.strong(d.pool.name), " created. This room is its lobby and you are its admin."),
      doc.line("Next: ", doc.cmd("project create <slug> <name>"), " to add a project, ", doc.cmd("pool invite"), " to bring in more rooms."),
    ],
    json: (d) => ({ pool: { id: d.pool.id, name: d.pool.name }, room: { id: d.room.id, lobby: true } }),
  }),

  defineCommand({
    path: ["pool", "info"],
    where: "pool",
    summary: "The pool of this room: projects, members, rooms and the commons",
    access: "anyone",
    mutates: false,
    args: {},
    run: (ctx) => pools.poolInfo(ctx),
    render: (d) => [
      doc.heading(`Pool ${d.pool.name}`),
      doc.line(
        `${d.members} member${d.members === 1 ? "" : "s"}, ${d.rooms.length} room${d.rooms.length === 1 ? "" : "s"}, commons balance `,
        doc.strong(formatHours(d.commons)),
        `. This room: ${d.room.isLobby ? "the lobby" : "a pool room"}.`,
      ),
      ...(d.projects.length === 0
        ? [doc.line(doc.muted("No projects yet: "), doc.cmd("project create <slug> <name>"))]
        : [
            doc.table(
              ["project", "name", "balance", "coordinators"],
              d.projects.map((p) => [p.project.slug, p.project.name, formatHours(p.balance), p.coordinators.map((h) => `@${h}`).join(" ")]),
            ),
          ]),
    ],
    json: (d) => ({
      pool: { id: d.pool.id, name: d.pool.name, createdAt: new Date(d.pool.createdAt).toISOString() },
      commons: toHours(d.commons),
      members: d.members,
      rooms: d.rooms.map((r) => ({ id: r.id, platform: r.platform, lobby: r.isLobby, project: r.projectId })),
      projects: d.projects.map((p) => ({ slug: p.project.slug, name: p.project.name, balance: toHours(p.balance), coordinators: p.coordinators })),
      policy: policyJson(d.policy),
    }),
    direct: true,
  }),

  defineCommand({
    path: ["pool", "invite"],
    where: "pool",
    summary: "A one-time code that binds another room to this pool",
    details:
      "Type the code in the other room (Discord channel, Matrix room or console room) with pool join <code>. Each code works once and expires after the policy's inviteDays ({inviteDays} days).",
    access: "pool admin",
    mutates: true,
    args: {},
    run: (ctx) => pools.invite(ctx),
    render: (d, v) => [
      doc.line("Invite code ", doc.strong(d.code), ` for ${d.pool.name}, valid until ${when(d.expiresAt, v)}.`),
      doc.line("In the room to add, type ", doc.cmd(`pool join ${d.code}`), "."),
    ],
    json: (d) => ({ code: d.code, expiresAt: new Date(d.expiresAt).toISOString() }),
  }),

  defineCommand({
    path: ["pool", "join"],
    where: "anywhere",
    summary: "Bind this room to a pool with an invite code",
    access: "anyone",
    bindsRoom: true,
    mutates: true,
    changesBoards: true,
    args: { code: arg.code("Invite code from pool invite").rest() },
    examples: ["pool join K7QM-4ZPA"],
    run: (ctx, a) => pools.joinPool(ctx, a.code),
    render: (d) => [
      doc.line("This room is now part of the pool ", doc.strong(d.pool.name), "."),
      doc.line("A project coordinator can make it the project's room with ", doc.cmd("project room <slug>"), "."),
    ],
    json: (d) => ({ pool: { id: d.pool.id, name: d.pool.name }, room: { id: d.room.id, lobby: false } }),
  }),

  defineCommand({
    path: ["pool", "policy"],
    where: "pool",
    summary: "Show the pool's policy, or change one key (admins)",
    details: `Keys: ${POLICY_KEY_NAMES.join(", ")}. With no key, every value is listed; with a key, its value and meaning; with a key and a value, a pool admin changes it.`,
    access: { show: "anyone", change: "pool admin" },
    mutates: (a) => a.value !== undefined,
    changesBoards: true,
    args: {
      key: arg.policyKey("Policy key to show or change").optional(),
      value: arg.text("New value (admins only)", { max: 64, placeholder: "value" }).optional().rest(),
    },
    examples: ["pool policy", "pool policy creditLimit", "pool policy weightGrowthPerDay 12%"],
    run: (ctx, a) => pools.policy(ctx, a.key, a.value),
    render: (d) => {
      if (d.mode === "all") {
        return [
          doc.heading("Pool policy"),
          doc.table(
            ["key", "value", "meaning"],
            POLICY_KEY_NAMES.map((k) => [k, formatPolicyValue(k, d.policy[k]), POLICY_KEYS[k].summary]),
          ),
          doc.line(doc.muted("Change one with "), doc.cmd("pool policy <key> <value>"), doc.muted(" (pool admins).")),
        ];
      }
      const spec = POLICY_KEYS[d.key];
      const head =
        d.mode === "set"
          ? doc.line(doc.strong(d.key), ` changed from ${formatPolicyValue(d.key, d.before)} to `, doc.strong(formatPolicyValue(d.key, d.value)), ".")
          : doc.line(doc.strong(d.key), " = ", doc.strong(formatPolicyValue(d.key, d.value)), ` (default ${formatPolicyValue(d.key, spec.default)})`);
      return [head, doc.line(doc.muted(`${spec.summary}. Accepts ${describeRange(d.key)}.${spec.ours ? " A rule of this bot, not of Siefkes' model." : ""}`))];
    },
    json: (d) =>
      d.mode === "all"
        ? { policy: policyJson(d.policy) }
        : { key: d.key, value: policyValueJson(d.key, d.value), changed: d.mode === "set", policy: policyJson(d.policy) },
  }),

  defineCommand({
    path: ["pool", "members"],
    where: "pool",
    summary: "Everyone in the pool, with roles and balances",
    access: "anyone",
    mutates: false,
    args: {},
    run: (ctx) => pools.listMembers(ctx),
    render: (d) => [
      doc.heading(`${d.members.length} member${d.members.length === 1 ? "" : "s"}`),
      doc.table(
        ["member", "role", "coordinates", "balance"],
        d.members.map((m) => [`@${m.handle}`, m.role, m.coordinates.join(", ") || "-", formatHours(m.balance)]),
      ),
    ],
    json: (d) => ({ members: d.members.map((m) => ({ handle: m.handle, role: m.role, coordinates: m.coordinates, balance: toHours(m.balance) })) }),
    direct: true,
  }),

  ...(["add", "remove"] as const).map((op) =>
    defineCommand({
      path: ["pool", "admin", op],
      where: "pool",
      summary: op === "add" ? "Make a member a pool admin" : "Take the pool admin role from a member",
      details:
        "Pool admins set the pool's policy, invite rooms and correct ledger entries; they may also act for any project's coordinators on rooms and coordinator seats. A pool always keeps at least one admin.",
      access: "pool admin",
      mutates: true,
      args: { member: arg.member("The member") },
      examples: [`pool admin ${op} @alice`],
      run: (ctx, a) => pools.changeAdmin(ctx, op, a.member),
      render: (d) => [doc.line(`@${d.member} ${op === "add" ? "is now" : "is no longer"} a pool admin. Admins: ${d.admins.map((h) => `@${h}`).join(" ")}.`)],
      json: (d) => ({ member: d.member, admins: d.admins }),
    }),
  ),

  defineCommand({
    path: ["pool", "audit"],
    where: "pool",
    summary: "Check the ledger: balances sum to zero and each equals its entries",
    details: `Recomputes every account's balance from the ledger's entries and checks that all balances of the pool add up to zero (double entry). Accounts that differ from their entries are listed by number, the first ${pools.AUDIT_LINES}, with how many more.`,
    access: "anyone",
    mutates: false,
    args: {},
    run: (ctx) => pools.auditPool(ctx),
    render: (d) => {
      // Answers stored before the count was kept listed every account that differs.
      const differ = (d.report as Partial<typeof d.report>).mismatchedCount ?? d.report.mismatched.length;
      const more = differ - d.report.mismatched.length;
      return [
        d.report.balanced
          ? doc.line(
              doc.good("Balanced."),
              ` Checked ${plural(d.report.accounts, "account")} and ${plural(d.report.entries, "entry", "entries")}: balances sum to ${formatHours(d.report.sum)} and each equals its entries.`,
            )
          : doc.line(
              doc.bad("NOT balanced."),
              ` Checked ${plural(d.report.accounts, "account")} and ${plural(d.report.entries, "entry", "entries")}: balances sum to ${formatHours(d.report.sum)}; ${differ} account(s) differ from their entries${more > 0 ? `, the first ${d.report.mismatched.length} by number` : ""}.`,
            ),
        ...(d.report.mismatched.length > 0
          ? [doc.list(d.report.mismatched.map((m) => [`account ${m.id} (${m.kind}): balance ${formatHours(m.balance)}, entries say ${formatHours(m.net)}`]))]
          : []),
        ...(more > 0 ? [doc.line(doc.muted(`... and ${plural(more, "more account")} that differ.`))] : []),
      ];
    },
    json: (d) => ({
      balanced: d.report.balanced,
      sum: toHours(d.report.sum),
      accounts: d.report.accounts,
      entries: d.report.entries,
      mismatchedCount: (d.report as Partial<typeof d.report>).mismatchedCount ?? d.report.mismatched.length,
      mismatched: d.report.mismatched.map((m) => ({ account: m.id, kind: m.kind, balance: toHours(m.balance), entries: toHours(m.net) })),
    }),
  }),
];
