// me ...: your balance, your ledger entries, and linking your accounts on several platforms;
// pool correct: the admins' way to undo a ledger entry with a new one.
import { formatHours, formatPlainHours, formatWeight, toHours } from "../src/core/amounts.ts";
import * as corrections from "../src/services/corrections.ts";
import * as ledger from "../src/services/ledger.ts";
import * as members from "../src/services/members.ts";
import * as mine from "../src/services/mine.ts";
import { weightJson } from "../src/core/weights.ts";
import type { DomainError } from "../src/errors.ts";
import { err, ok, type Result } from "../src/result.ts";
import type { EntryRow } from "../src/store.ts";
import { arg } from "./args.ts";
import { defineCommand } from "./define.ts";
import { doc } from "./doc.ts";
import { iso, plural, when } from "./present.ts";
import { entryId } from "../src/core/ids.ts";

type LinkData = ({ mode: "code" } & members.LinkCode) | ({ mode: "linked" } & members.Linked);

const entryJson = (e: EntryRow) => ({ id: e.id, kind: e.kind, memo: e.memo, amount: toHours(e.amount), reverses: e.reverses, createdAt: iso(e.createdAt) });

export const meCommands = [
  defineCommand({
    path: ["me", "status"],
    personal: true,
    where: "pool",
    summary: "What is yours in this pool: claims and deadlines, work waiting for verification, requests, loans, subscriptions, balance",
    details:
      "Typed as me alone, too. Lists your claims with when each runs out (and the task's due date), the work you reported that waits for a coordinator's verification, your waiting requests for goods with their weights, your loans with their due dates (overdue ones marked, with what their days cost so far), your subscriptions, and your balance. Only you see the reply.",
    access: "anyone",
    mutates: false,
    args: {},
    examples: ["me", "me status"],
    run: (ctx) => mine.myStatus(ctx),
    render: (d, v) => {
      const b = d.balance;
      const empty = d.claims.length + d.reported.length + d.requests.length + d.loans.length + d.subscriptions.length === 0;
      return [
        doc.line(
          "Your balance: ",
          doc.strong(formatHours(b.balance)),
          `. You can take up to ${formatHours(b.available)} more (credit limit ${formatHours(b.creditLimit)}).`,
        ),
        ...(empty
          ? [
              doc.line(
                doc.muted("Nothing else is yours yet: no claims, reported work, requests, loans or subscriptions. "),
                doc.cmd("task list"),
                doc.muted(" shows open tasks, "),
                doc.cmd("good list"),
                doc.muted(" the goods."),
              ),
            ]
          : []),
        ...(d.claims.length === 0
          ? []
          : [
              doc.heading("Your claims"),
              doc.list(
                d.claims.map((c) => [
                  `#${c.task} ${c.title} (${c.project}): report by ${when(c.expiresAt, v)}`,
                  c.dueAt !== null && c.dueAt !== c.expiresAt ? `, task due ${when(c.dueAt, v)}` : "",
                  ". ",
                  doc.cmd(`task done ${c.task}`),
                ]),
              ),
            ]),
        ...(d.reported.length === 0
          ? []
          : [
              doc.heading("Waiting for verification"),
              doc.list(d.reported.map((r) => [`#${r.task} ${r.title} (${r.project}): ${formatPlainHours(r.hours)} reported ${when(r.reportedAt, v)}`])),
            ]),
        ...(d.requests.length === 0
          ? []
          : [
              doc.heading("Your waiting requests"),
              doc.list(
                d.requests.map((r) => [
                  `#${r.request} ${r.good}: ${plural(r.qty, "unit")}, weight ${formatWeight(r.weight)}. `,
                  doc.cmd(`good cancel ${r.request}`),
                  " withdraws it.",
                ]),
              ),
            ]),
        ...(d.loans.length === 0
          ? []
          : [
              doc.heading("Your loans"),
              doc.list(
                d.loans.map((l) =>
                  l.overdue
                    ? [
                        doc.warn("Overdue: "),
                        `#${l.loan} ${l.good}, due ${when(l.dueAt, v)}: ${formatHours(l.charged ?? 0)} so far. `,
                        doc.cmd(`good return ${l.loan}`),
                      ]
                    : [`#${l.loan} ${l.good}, due ${when(l.dueAt, v)}. `, doc.cmd(`good return ${l.loan}`)],
                ),
              ),
            ]),
        ...(d.subscriptions.length === 0
          ? []
          : [
              doc.heading("Your subscriptions"),
              doc.list(d.subscriptions.map((s) => [`${s.good}, since ${when(s.since, v)}. `, doc.cmd(`good unsubscribe ${s.good}`)])),
            ]),
      ];
    },
    json: (d) => ({
      balance: toHours(d.balance.balance),
      creditLimit: toHours(d.balance.creditLimit),
      available: toHours(d.balance.available),
      claims: d.claims.map((c) => ({
        task: c.task,
        title: c.title,
        project: c.project,
        status: "active",
        expiresAt: iso(c.expiresAt),
        dueAt: c.dueAt === null ? null : iso(c.dueAt),
      })),
      reported: d.reported.map((r) => ({ task: r.task, title: r.title, project: r.project, hours: toHours(r.hours), reportedAt: iso(r.reportedAt) })),
      requests: d.requests.map((r) => ({ request: r.request, good: r.good, qty: r.qty, weight: weightJson(r.weight), createdAt: iso(r.createdAt) })),
      loans: d.loans.map((l) => ({
        loan: l.loan,
        good: l.good,
        borrowedAt: iso(l.borrowedAt),
        dueAt: iso(l.dueAt),
        overdue: l.overdue,
        charged: l.charged === null ? null : toHours(l.charged),
      })),
      subscriptions: d.subscriptions.map((s) => ({ good: s.good, since: iso(s.since) })),
    }),
  }),

  defineCommand({
    path: ["me", "balance"],
    personal: true,
    where: "pool",
    summary: "Your balance in this pool: what you contributed minus what you took",
    details:
      "Credit for verified work is added, goods you take are subtracted. Your balance may go below zero down to the pool's credit limit (creditLimit, {creditLimit}), so newcomers can take before they give. Loans you keep past their due date are listed as overdue, with what their days cost so far.",
    access: "anyone",
    mutates: false,
    args: {},
    run: (ctx) => ledger.myBalance(ctx),
    render: (d, v) => [
      doc.line(
        "Your balance: ",
        doc.strong(formatHours(d.balance)),
        `. You can take up to ${formatHours(d.available)} more (credit limit ${formatHours(d.creditLimit)}).`,
      ),
      ...d.overdue.map((o) =>
        doc.line(
          doc.warn("Overdue: "),
          `${o.good} (loan #${o.loan}), due ${when(o.dueAt, v)}: ${formatHours(o.charged)} so far for ${plural(o.days, "day")}; each day adds more. `,
          doc.cmd(`good return ${o.loan}`),
          " when you bring it back.",
        ),
      ),
    ],
    json: (d) => ({
      balance: toHours(d.balance),
      creditLimit: toHours(d.creditLimit),
      available: toHours(d.available),
      overdue: d.overdue.map((o) => ({ loan: o.loan, good: o.good, dueAt: iso(o.dueAt), days: o.days, charged: toHours(o.charged) })),
    }),
  }),

  defineCommand({
    path: ["me", "history"],
    personal: true,
    where: "pool",
    summary: "Your latest ledger entries in this pool",
    access: "anyone",
    mutates: false,
    args: { limit: arg.integer("How many entries to show", { min: 1, max: 100, placeholder: "limit" }).optional() },
    examples: ["me history", "me history 50"],
    run: (ctx, a) => ledger.myHistory(ctx, a.limit ?? 10),
    render: (d, v) =>
      d.lines.length === 0
        ? [doc.line(doc.muted("No entries yet."), " Credit comes from verified work on tasks.")]
        : [
            doc.table(
              ["#", "when", "amount", "with", "what"],
              d.lines.map((l) => [
                String(l.entry.id),
                when(l.entry.createdAt, v),
                `${l.amount > 0 ? "+" : ""}${formatHours(l.amount)}`,
                l.counterparty,
                `${l.entry.kind}: ${l.entry.memo}`,
              ]),
            ),
            doc.line("Balance now: ", doc.strong(formatHours(d.balance))),
          ],
    json: (d) => ({ balance: toHours(d.balance), entries: d.lines.map((l) => ({ ...entryJson(l.entry), amount: toHours(l.amount), with: l.counterparty })) }),
  }),

  defineCommand({
    path: ["me", "link"],
    personal: true,
    where: "anywhere",
    summary: "Join your accounts on several platforms into one member",
    details:
      "Type me link on one platform to get a code, then me link <code> as your other account (another platform, or another console name) within 15 minutes. The second account is merged into the first, and everything it holds moves over: claims and reported work, waitlist places, requests for goods, loans, subscriptions, notes, roles (the higher one wins) and coordinator seats; its balance moves by ledger entries, so yours becomes the sum of both. Where both accounts held a slot on one task you keep one, the one further along (verified, reported, then active; else the earlier), and the other is given back; two places on one waitlist become the earlier one, and two subscriptions to one good become one (one share).",
    access: "anyone",
    mutates: true,
    args: { code: arg.code("The code you got from me link on your other account").optional().rest() },
    examples: ["me link", "me link K7QM-4ZPA"],
    run: async (ctx, a): Promise<Result<LinkData, DomainError>> => {
      if (a.code === undefined) {
        const r = await members.makeLinkCode(ctx);
        return r.ok ? { ok: true, value: { mode: "code" as const, ...r.value } } : r;
      }
      const r = await members.useLinkCode(ctx, a.code);
      return r.ok ? { ok: true, value: { mode: "linked" as const, ...r.value } } : r;
    },
    render: (d, v) =>
      d.mode === "code"
        ? [doc.line("Your link code: ", doc.strong(d.code), `. As your other account, type `, doc.cmd(`me link ${d.code}`), ` before ${when(d.expiresAt, v)}.`)]
        : [
            doc.line(
              doc.good("Linked."),
              " You are ",
              doc.strong(`@${d.member.handle}`),
              " on all of these: ",
              d.identities.map((i) => `${i.platform}:${i.externalId}`).join(", "),
              ".",
            ),
            ...(d.resolved ?? []).map((r) =>
              doc.line(`Both accounts held a slot on task #${r.task}: you keep the ${r.kept} one; the ${r.gaveBack} one was given back.`),
            ),
          ],
    json: (d) =>
      d.mode === "code"
        ? { code: d.code, expiresAt: iso(d.expiresAt) }
        : {
            member: d.member.handle,
            merged: d.merged.handle,
            identities: d.identities.map((i) => ({ platform: i.platform, id: i.externalId })),
            movedBalances: d.movedBalances,
            resolved: d.resolved ?? [],
          },
  }),
];

/** `pool correct 12 <reason> confirm`: the last word confirms (our choice: no state kept between commands). */
function confirmation(reason: string): { reason: string; confirmed: boolean } {
  const m = /^(.+) confirm$/i.exec(reason);
  return m ? { reason: m[1]!, confirmed: true } : { reason, confirmed: false };
}

/** A word such as hours:2 in a reason was most likely meant as an option. */
const OPTION_LIKE = /(?:^|\s)([a-z][a-z0-9_-]{0,31}:[^\s/]\S*)/i;

type CorrectData = ({ confirmed: false } & corrections.CorrectionPreview & { reason: string; entry: number }) | ({ confirmed: true } & corrections.Correction);

export const ledgerCommands = [
  defineCommand({
    path: ["pool", "correct"],
    where: "pool",
    summary: "Undo a ledger entry with a new, reversing entry: first shows what it reverses, then acts with confirm",
    details:
      "Typed with an entry and a reason, it only shows what would be reversed (the amount, between whom, and the work it stands for) and changes nothing; type the same again with confirm as the last word to reverse it (our choice). On Discord the preview also carries a Reverse entry button (and Cancel, which takes the buttons off), on Matrix a ✅ reaction on the preview does the same: only the admin who asked can use them, anyone else is refused and nothing changes. A reason holding a word like hours:2 is refused, since it was most likely meant as an option: write the reason in words. The ledger is append-only: nothing is ever edited or deleted. A correction posts the same amount back between the same two accounts, with your reason, and keeps both entries visible. Correcting the credit for verified work marks that claim as corrected: it no longer counts in summaries, task show or the good's measured effort, the worker is told, and the task is open again for anyone to claim (its weight rising from where it stopped). Correcting that correction makes the work verified again.",
    access: "pool admin",
    mutates: (a) => confirmation(a.reason).confirmed,
    args: {
      entry: arg.id(entryId, "Entry number (see me history)", { max: 1_000_000_000_000, placeholder: "entry" }),
      reason: arg.text("Why it is corrected; end with confirm to reverse it", { max: 200, placeholder: "reason" }).rest(),
    },
    examples: ['pool correct 12 "hours were reported twice"', 'pool correct 12 "hours were reported twice" confirm'],
    run: async (ctx, a): Promise<Result<CorrectData, DomainError>> => {
      const { reason, confirmed } = confirmation(a.reason);
      const option = OPTION_LIKE.exec(reason);
      if (option)
        return err({ kind: "text_like_option", what: "reason", word: option[1]!, retype: `pool correct ${a.entry} "hours were reported twice" confirm` });
      if (confirmed) {
        const r = await corrections.correctEntry(ctx, a.entry, reason);
        return r.ok ? ok({ confirmed: true as const, ...r.value }) : r;
      }
      const p = await corrections.previewCorrection(ctx, a.entry);
      return p.ok ? ok({ confirmed: false as const, ...p.value, reason, entry: a.entry }) : p;
    },
    render: (d, v) =>
      !d.confirmed
        ? [
            doc.line(
              `Entry #${d.original.id} (${d.original.kind}: ${d.original.memo}, ${when(d.original.createdAt, v)}) would be reversed: ${formatHours(d.original.amount)} back from ${d.from} to ${d.to}.`,
            ),
            ...(d.claim === null
              ? []
              : [
                  d.claim.status === "corrected"
                    ? doc.line(
                        `@${d.claim.member}'s work on task #${d.claim.task} (${d.claim.title}) would be marked corrected and count no more; the task would be ${d.claim.taskState === "open" ? "open again" : d.claim.taskState}.`,
                      )
                    : doc.line(
                        `@${d.claim.member}'s work on task #${d.claim.task} (${d.claim.title}) would be verified again; the task would be ${d.claim.taskState}.`,
                      ),
                ]),
            doc.line(doc.warn("Nothing is changed yet. "), "To reverse it, type ", doc.cmd(`pool correct ${d.entry} ${d.reason} confirm`), "."),
          ]
        : [
            doc.line(`Entry #${d.original.id} (${formatHours(d.original.amount)}) reversed by entry #${d.correction.id}: ${d.correction.memo}`),
            ...(d.claim === null
              ? []
              : [
                  d.claim.status === "corrected"
                    ? doc.line(
                        `@${d.claim.member}'s work on task #${d.claim.task} (${d.claim.title}) is marked corrected and counts no more; the task is ${d.claim.taskState === "open" ? "open again" : d.claim.taskState}.`,
                      )
                    : doc.line(`@${d.claim.member}'s work on task #${d.claim.task} (${d.claim.title}) is verified again; the task is ${d.claim.taskState}.`),
                ]),
          ],
    json: (d) =>
      !d.confirmed
        ? { confirmed: false, original: entryJson(d.original), from: d.from, to: d.to, claim: d.claim, confirm: `pool correct ${d.entry} ${d.reason} confirm` }
        : { confirmed: true, original: entryJson(d.original), correction: entryJson(d.correction), claim: d.claim },
    // Discord's Reverse button and Matrix's ✅ on the preview: the same entry and reason, confirmed.
    confirm: (d) => (d.confirmed ? undefined : { entry: d.entry, reason: `${d.reason} confirm` }),
    confirmLabel: (d) => `Reverse entry #${d.original.id}`,
  }),
];
