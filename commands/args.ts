// Argument kinds of the command table. Each argument carries its zod schema (the only
// validator: text tokens and, later, Discord option values both go through it), what a user
// should type (`expect`), and how to write a parsed value back as text (for the round trip).
import { z } from "zod";
import { formatThousandths, MAX_MILLI_HOURS, parseThousandths, splitUnit, UNIT_SHORT, type AmountUnit } from "../src/core/amounts.ts";
import { unsafeChar, withoutUnsafe, type UnsafeChar } from "../src/core/clean-text.ts";
import { normaliseCode } from "../src/core/ids.ts";
import { parseMoment } from "../src/core/moments.ts";
import { POLICY_KEY_NAMES, type PolicyKey } from "../src/core/policy.ts";
import type { MemberRef } from "../src/services/context.ts";

export type ArgKind = "text" | "slug" | "integer" | "hours" | "choice" | "member" | "code" | "policyKey" | "date";

export interface ArgSpec {
  readonly kind: ArgKind;
  readonly description: string;
  /** Name shown in usage lines: `<placeholder>` or `key:<placeholder>`. */
  readonly placeholder: string;
  /** What a valid value looks like, for error messages. */
  readonly expect: string;
  readonly optional: boolean;
  /** Positional arguments may be typed bare; named ones only as key:value. */
  readonly positional: boolean;
  /** The last positional text argument may take every remaining word. */
  readonly rest: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
}

/**
 * What a refused value's custom zod issue may carry in `params`: `problem` replaces the usual
 * "<name> must be <expect>, not ..." (it follows the argument's name), `why` is added to it.
 */
export interface IssueParams {
  readonly problem?: string | undefined;
  readonly why?: string | undefined;
}

const UNSAFE_WORDS: Record<UnsafeChar["kind"], string> = {
  control: "a control character",
  direction: "a text-direction character",
  invisible: "an invisible character",
};

/** "holds an invisible character (U+200B) at character 12: ...", said after the argument's name. */
export function unsafeProblem(u: UnsafeChar): string {
  return `holds ${UNSAFE_WORDS[u.kind]} (${u.codePoint}) at character ${u.position}: type it again with visible characters only (emoji are fine)`;
}

// Whitespace that is typed (spaces, tabs, line breaks) becomes one space; U+FEFF, which JavaScript
// counts as whitespace, is an invisible character and is refused instead.
const SPACES = /[^\S\ufeff]+/g;
const EDGE_SPACES = /^[^\S\ufeff]+|[^\S\ufeff]+$/g;

export class Arg<T> {
  constructor(
    readonly spec: ArgSpec,
    readonly schema: z.ZodType<T>,
    /** Writes a parsed value back as it would be typed. */
    readonly toText: (value: T) => string,
  ) {}

  optional(): Arg<T | undefined> {
    return new Arg<T | undefined>({ ...this.spec, optional: true }, this.schema.optional(), (v) => (v === undefined ? "" : this.toText(v)));
  }
  named(): Arg<T> {
    return new Arg({ ...this.spec, positional: false }, this.schema, this.toText);
  }
  rest(): Arg<T> {
    return new Arg({ ...this.spec, rest: true }, this.schema, this.toText);
  }
  as(placeholder: string): Arg<T> {
    return new Arg({ ...this.spec, placeholder }, this.schema, this.toText);
  }
}

// biome-ignore lint: any is the honest type of a heterogeneous table
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export type AnyArg = Arg<any>;
export type ArgValues<A extends Record<string, AnyArg>> = { [K in keyof A]: A[K] extends Arg<infer T> ? T : never };

function spec(kind: ArgKind, description: string, placeholder: string, expect: string, extra: Partial<ArgSpec> = {}): ArgSpec {
  return { kind, description, placeholder, expect, optional: false, positional: true, rest: false, ...extra };
}

/** Accepts a string of digits (text) or a number (Discord) and yields an integer. */
const intInput = z.union([
  z.number(),
  z
    .string()
    .regex(/^#?[+-]?\d{1,15}$/)
    .transform((s) => Number(s.replace("#", ""))),
]);

export const arg = {
  text(description: string, o: { min?: number; max: number; placeholder?: string }) {
    const min = o.min ?? 1;
    return new Arg<string>(
      spec("text", description, o.placeholder ?? "text", `text of ${min} to ${o.max} characters, without line breaks`, { min, max: o.max }),
      z
        .string()
        .transform((s) => s.replace(EDGE_SPACES, "").replace(SPACES, " "))
        .pipe(
          z
            .string()
            .min(min)
            .max(o.max)
            .superRefine((s, c) => {
              const u = unsafeChar(s);
              if (u) c.addIssue({ code: "custom", message: "unsafe character", params: { problem: unsafeProblem(u) } satisfies IssueParams });
            }),
        ),
      (v) => v,
    );
  },

  /** Short lower-case names such as project slugs: `bakery`, `bike-workshop`. */
  slug(description: string, placeholder = "slug") {
    return new Arg<string>(
      spec("slug", description, placeholder, "2 to 32 lower-case letters, digits or dashes, starting with a letter (like bike-workshop)", {
        min: 2,
        max: 32,
      }),
      z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.string().regex(/^[a-z][a-z0-9-]{1,31}$/)),
      (v) => v,
    );
  },

  /**
   * A project or good as the lists show it: its short name (bakery), its number (1 or #1) or its
   * display name in any case, quoted when it has spaces ("Riverside Bakery"). The service finds it
   * (or says which one was probably meant); here it is only cleaned like text.
   */
  ref(description: string, placeholder: string) {
    return new Arg<string>(
      spec("slug", description, placeholder, "its short name, its number or its display name (in quotes when it has spaces), as the list shows it", {
        min: 1,
        max: 80,
      }),
      z
        .string()
        .transform((s) => s.replace(EDGE_SPACES, "").replace(SPACES, " "))
        .pipe(
          z
            .string()
            .min(1)
            .max(80)
            .superRefine((s, c) => {
              const u = unsafeChar(s);
              if (u) c.addIssue({ code: "custom", message: "unsafe character", params: { problem: unsafeProblem(u) } satisfies IssueParams });
            }),
        ),
      (v) => (/[\s"\\]/.test(v) ? `"${v.replace(/["\\]/g, "\\$&")}"` : v),
    );
  },

  integer(description: string, o: { min: number; max: number; placeholder?: string }) {
    return new Arg<number>(
      spec("integer", description, o.placeholder ?? "n", `a whole number from ${o.min} to ${o.max}`, { min: o.min, max: o.max }),
      intInput.pipe(z.number().int().min(o.min).max(o.max)),
      (v) => String(v),
    );
  },

  /**
   * A row's number as the lists show it (a task, a goal, an entry, a request for a good): an
   * integer that comes out as that table's kind of id (`of`, from src/core/ids.ts), so a command
   * that passes a task's number where a member's id goes does not compile.
   */
  id<I extends number>(of: (n: number) => I, description: string, o: { max: number; placeholder: string }) {
    return new Arg<I>(
      spec("integer", description, o.placeholder, `a whole number from 1 to ${o.max}`, { min: 1, max: o.max }),
      intInput.pipe(z.number().int().min(1).max(o.max)).transform(of),
      (v) => String(v),
    );
  },

  /**
   * Weighted or plain hours, typed as decimals ("1.5"), kept as integer milli-hours. The unit may
   * follow the number ("2h", "2 hours" for hours, "2wh" for weighted hours); another unit is refused.
   */
  hours(description: string, o: { min: number; max?: number; placeholder?: string; noun?: string }) {
    const max = o.max ?? MAX_MILLI_HOURS;
    const noun = o.noun ?? "hours";
    const own: AmountUnit | null = noun === "hours" ? "hours" : noun === "weighted hours" ? "weighted hours" : null;
    const number = (s: string, c: z.RefinementCtx): number | null => {
      const u = splitUnit(s);
      if (!u) return parseThousandths(s);
      if (u.unit === own) return parseThousandths(u.number);
      const instead = own ? `${u.number} or ${u.number}${UNIT_SHORT[own]}` : u.number;
      c.addIssue({
        code: "custom",
        message: "another unit",
        params: { problem: `must be ${own ?? noun}, not ${u.unit}: type ${instead}` } satisfies IssueParams,
      });
      return z.NEVER;
    };
    return new Arg<number>(
      spec(
        "hours",
        description,
        o.placeholder ?? "hours",
        `${noun} from ${formatThousandths(o.min, 0)} to ${formatThousandths(max, 0)} with at most three decimals, such as 1.5`,
        {
          min: o.min,
          max,
        },
      ),
      z
        .union([z.number(), z.string()])
        .transform((v, c) => (typeof v === "number" ? parseThousandths(String(v)) : number(v, c)))
        .pipe(z.number().int().min(o.min).max(max)),
      (v) => formatThousandths(v, 0),
    );
  },

  choice<const C extends readonly [string, ...string[]]>(description: string, choices: C, placeholder = "choice") {
    return new Arg<C[number]>(
      spec("choice", description, placeholder, `one of ${choices.join(", ")}`, { choices }),
      z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(choices)),
      (v) => v,
    );
  },

  /** A member: `@handle` in text; adapters may pass platform identities (Discord users, Matrix ids). */
  member(description: string, placeholder = "@member") {
    return new Arg<MemberRef>(
      spec("member", description, placeholder, "a member written as @name"),
      z.union([
        // A platform's display name is nobody's to retype: hidden characters are dropped, not refused.
        z.object({ platform: z.string().min(1), userId: z.string().min(1), displayName: z.string().transform(withoutUnsafe) }),
        z.string().transform((s, c): MemberRef => {
          const discord = /^<@!?(\d{1,20})>$/.exec(s);
          if (discord) return { platform: "discord", userId: discord[1]!, displayName: discord[1]! };
          const matrix = /^(@[a-z0-9._=\-/+]{1,200}):([a-z0-9.-]{1,200}(?::\d{1,5})?)$/i.exec(s);
          if (matrix) return { platform: "matrix", userId: s, displayName: matrix[1]!.slice(1) };
          const handle = /^@([a-z0-9_-]{1,32})$/i.exec(s);
          if (handle) return { handle: handle[1]!.toLowerCase() };
          c.addIssue({ code: "custom", message: "not a member" });
          return z.NEVER;
        }),
      ]),
      (v) => ("handle" in v ? `@${v.handle}` : v.platform === "discord" ? `<@${v.userId}>` : v.userId),
    );
  },

  /** One-time codes such as K7QM-4ZPA; case, spaces and dashes do not matter. */
  code(description: string, placeholder = "code") {
    return new Arg<string>(
      spec("code", description, placeholder, "a code such as K7QM-4ZPA"),
      z
        .string()
        .transform((s) => s.replace(/[\s-]/g, ""))
        .pipe(z.string().regex(/^[A-Za-z0-9]{4,16}$/))
        .transform((s) => normaliseCode(s)),
      (v) => v,
    );
  },

  /**
   * A moment: a date (2026-12-01, meaning the end of that day; kept as its last millisecond in
   * UTC, which commands of a pool move to the end of that day in the pool's time zone with
   * dayEndIn, commands/present.ts) or an ISO time with its zone (2026-12-01T18:00Z). Kept as epoch
   * milliseconds. Days and times that do not exist are refused.
   */
  date(description: string, placeholder = "date") {
    const DAY = 86_400_000;
    return new Arg<number>(
      spec("date", description, placeholder, "a date such as 2026-12-01 or a time such as 2026-12-01T18:00Z"),
      z.string().transform((s, c) => {
        const m = parseMoment(s);
        const ms = m.ok ? (m.dayOnly ? m.ms + DAY - 1 : m.ms) : Number.NaN;
        if (!m.ok || !(ms >= 0 && ms < Date.UTC(10000, 0, 1))) {
          c.addIssue({ code: "custom", message: "not a date", params: { why: m.ok ? undefined : m.why } satisfies IssueParams });
          return z.NEVER;
        }
        return ms;
      }),
      (v) => ((v + 1) % DAY === 0 ? new Date(v + 1 - DAY).toISOString().slice(0, 10) : new Date(v).toISOString()),
    );
  },

  policyKey(description: string) {
    return new Arg<PolicyKey>(
      spec("policyKey", description, "key", `a policy key: ${POLICY_KEY_NAMES.join(", ")}`, { choices: POLICY_KEY_NAMES }),
      z.string().pipe(z.enum(POLICY_KEY_NAMES as [PolicyKey, ...PolicyKey[]])),
      (v) => v,
    );
  },
};
