// The scarcity auction (MODEL.md, "Goods"): units go to the highest preference weights (ties:
// earliest request); every winner pays the same clearing weight, the highest losing weight but
// at least 1.00, times the effort: a uniform-price auction, where stating your true preference
// is the best strategy. A winner who cannot pay within the credit limit is skipped and the unit
// goes to the next bid. Weights are millionths, amounts milli-hours.
//
// Bounded work: a round costs O((units + requests) log units) per pass of its give-back step
// (see `roundOutcome`), however unaffordable the requests; nothing here is quadratic in units.
import { credit, WEIGHT_ONE } from "./weights.ts";

export interface Bid {
  readonly request: number;
  readonly member: number;
  /** Preference weight, >= 1.00. */
  readonly weight: number;
  readonly units: number;
  /** When the request was made: earlier wins ties. */
  readonly at: number;
}

export interface RoundInput {
  readonly bids: readonly Bid[];
  readonly supply: number;
  /** Production effort per unit, milli-hours. */
  readonly effort: number;
  readonly balances: ReadonlyMap<number, number>;
  readonly creditLimit: number;
}

export interface Share {
  readonly request: number;
  readonly member: number;
  readonly units: number;
}

export interface RoundOutcome {
  readonly clearing: number;
  /** What each winner pays per unit: effort x clearing weight. */
  readonly unitCost: number;
  readonly winners: readonly Share[];
  /** Units that lost, and stay queued. */
  readonly losers: readonly Share[];
  /** Units a winner could not pay within the credit limit; they stay queued too. */
  readonly skipped: readonly Share[];
}

/** Counts the auction's elementary steps, so that tests can bound its work without a clock. */
export interface AuctionMeter {
  steps: number;
}

/** Minimum over members of the highest unit cost each can pay for the units they win. */
class CapacityTree {
  private readonly size: number;
  private readonly tree: Float64Array;
  constructor(n: number) {
    this.size = Math.max(1, n);
    this.tree = new Float64Array(2 * this.size).fill(Infinity);
  }
  set(i: number, v: number): void {
    let p = i + this.size;
    this.tree[p] = v;
    for (p >>= 1; p >= 1; p >>= 1) this.tree[p] = Math.min(this.tree[2 * p]!, this.tree[2 * p + 1]!);
  }
  get min(): number {
    return this.tree[1]!;
  }
}

/** Which units are in the round (not left out), with rank queries. */
class Fenwick {
  private readonly t: Int32Array;
  private readonly log: number;
  constructor(private readonly n: number) {
    this.t = new Int32Array(n + 1);
    let l = 1;
    while (l * 2 <= n) l *= 2;
    this.log = l;
  }
  /** Marks every index in one pass. */
  fill(marked: (i: number) => boolean): void {
    for (let p = 1; p <= this.n; p++) {
      if (marked(p - 1)) this.t[p]! += 1;
      const up = p + (p & -p);
      if (up <= this.n) this.t[up]! += this.t[p]!;
    }
  }
  add(i: number, d: number): void {
    for (let p = i + 1; p <= this.n; p += p & -p) this.t[p]! += d;
  }
  /** How many are marked in [0, i). */
  before(i: number): number {
    let s = 0;
    for (let p = i; p > 0; p -= p & -p) s += this.t[p]!;
    return s;
  }
  /** Index of the k-th marked one (1-based k). */
  kth(k: number): number {
    let pos = 0;
    for (let step = this.log; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= this.n && this.t[next]! < k) {
        pos = next;
        k -= this.t[next]!;
      }
    }
    return pos;
  }
}

/**
 * The round's outcome. Ranked unit by unit: first the winning units their members cannot pay
 * at the price of the moment are left out, pass by pass (the price can only fall as they go);
 * then each left-out unit, best-ranked first, gets its place back if everyone who wins can still
 * pay the price that results, repeated until nothing changes (a unit given back raises the
 * price, and can make room for another). Each pass looks only at the units that just entered
 * the winners, and each give-back is decided from per-member counts, so no step rescans the
 * round.
 */
export function roundOutcome(input: RoundInput, meter?: AuctionMeter): RoundOutcome {
  const sorted = [...input.bids].sort((a, b) => b.weight - a.weight || a.at - b.at || a.request - b.request);
  const memberSlot = new Map<number, number>();
  for (const b of sorted) if (!memberSlot.has(b.member)) memberSlot.set(b.member, memberSlot.size);
  const members = memberSlot.size;
  const room = new Float64Array(members);
  for (const [m, s] of memberSlot) room[s] = (input.balances.get(m) ?? 0) + input.creditLimit;

  let n = 0;
  for (const b of sorted) n += b.units;
  const bidOf = new Int32Array(n);
  const slotOf = new Int32Array(n);
  for (let b = 0, i = 0; b < sorted.length; b++) {
    const slot = memberSlot.get(sorted[b]!.member)!;
    for (let k = 0; k < sorted[b]!.units; k++, i++) {
      bidOf[i] = b;
      slotOf[i] = slot;
    }
  }
  const weightAt = (i: number) => (i < n ? sorted[bidOf[i]!]!.weight : 0);
  const costAt = (i: number) => credit(input.effort, Math.max(WEIGHT_ONE, weightAt(i)));
  const affordable = (slot: number, cost: number) => (cost === 0 ? Infinity : Math.max(0, Math.floor(room[slot]! / cost)));
  const tick = () => {
    if (meter) meter.steps++;
  };

  const supply = Math.max(0, input.supply);
  const out = new Uint8Array(n);
  const won = new Int32Array(members);

  // Left out, pass by pass. The winners are the units in [0, k) that are not out, the first
  // loser is unit k. Units the previous pass kept stay payable (the price only falls), so each
  // pass decides only on the units that entered with it.
  let k = Math.min(supply, n);
  for (let from = 0; ; ) {
    const cost = costAt(k);
    let dropped = 0;
    for (let i = from; i < k; i++) {
      tick();
      if (won[slotOf[i]!]! < affordable(slotOf[i]!, cost)) won[slotOf[i]!]!++;
      else {
        out[i] = 1;
        dropped++;
      }
    }
    if (dropped === 0) break;
    from = k;
    k = Math.min(n, k + dropped);
  }

  // Given back. The state: `inRound` marks the units not out, `eligible` counts them, `last`
  // is the lowest winner and `loser` the first loser (n when there is none).
  const inRound = new Fenwick(n);
  inRound.fill((i) => out[i] === 0);
  let eligible = 0;
  for (let i = 0; i < n; i++) if (!out[i]) eligible++;
  const winnersNow = Math.min(supply, eligible);
  let last = winnersNow === 0 ? -1 : inRound.kth(winnersNow);
  let loser = eligible > supply ? inRound.kth(supply + 1) : n;
  let cost = costAt(loser);
  const caps = new CapacityTree(members);
  const capOf = (slot: number, count: number) => (count === 0 ? Infinity : Math.floor(room[slot]! / count));
  for (let s = 0; s < members; s++) caps.set(s, capOf(s, won[s]!));
  /** Can every winner pay `price` with one more unit for `plus` and one fewer for `minus`? */
  const payable = (price: number, plus: number, minus: number): boolean => {
    if (price === 0) return true;
    if (plus >= 0 && capOf(plus, won[plus]! + 1) < price) return false;
    if (minus >= 0 && capOf(minus, won[minus]! - 1) < price) return false;
    // `plus` pays more with one more unit, so its cap in the tree passes too; `minus` may be
    // the one member short at its present count, which it no longer has.
    if (caps.min >= price) return true;
    if (minus < 0) return false;
    caps.set(minus, Infinity);
    const ok = caps.min >= price;
    caps.set(minus, capOf(minus, won[minus]!));
    return ok;
  };

  let left: number[] = [];
  for (let i = 0; i < n; i++) if (out[i]) left.push(i);
  for (let changed = true; changed; ) {
    changed = false;
    const still: number[] = [];
    for (const u of left) {
      tick();
      const su = slotOf[u]!;
      let taken: boolean;
      if (eligible < supply) {
        // Fewer units than supply: it wins, nobody loses, the price stays 1.00.
        taken = payable(cost, su, -1);
        if (taken) {
          won[su]!++;
          caps.set(su, capOf(su, won[su]!));
          last = Math.max(last, u);
        }
      } else if (u < last) {
        // It wins, the lowest winner becomes the first loser and sets the price.
        const sz = slotOf[last]!;
        const price = costAt(last);
        taken = su === sz ? payable(price, -1, -1) : payable(price, su, sz);
        if (taken) {
          won[su]!++;
          won[sz]!--;
          caps.set(su, capOf(su, won[su]!));
          caps.set(sz, capOf(sz, won[sz]!));
          loser = last;
          cost = price;
          inRound.add(u, 1);
          last = inRound.kth(inRound.before(loser));
          inRound.add(u, -1);
        }
      } else if (u < loser) {
        // It becomes the first loser: the winners stay, the price rises to its weight.
        const price = costAt(u);
        taken = payable(price, -1, -1);
        if (taken) {
          loser = u;
          cost = price;
        }
      } else taken = true;
      if (taken) {
        inRound.add(u, 1);
        eligible++;
        out[u] = 0;
        changed = true;
      } else still.push(u);
    }
    left = still;
  }

  const group = (keep: (i: number) => boolean): Share[] => {
    const shares: Share[] = [];
    for (let i = 0; i < n; ) {
      if (!keep(i)) {
        i++;
        continue;
      }
      const b = bidOf[i]!;
      let units = 0;
      for (; i < n && bidOf[i] === b && keep(i); i++) units++;
      const prev = shares[shares.length - 1];
      const bid = sorted[b]!;
      // A request's units are adjacent in rank, so a run of it continues the last share.
      if (prev && prev.request === bid.request) shares[shares.length - 1] = { ...prev, units: prev.units + units };
      else shares.push({ request: bid.request, member: bid.member, units });
    }
    return shares;
  };
  return {
    clearing: Math.max(WEIGHT_ONE, weightAt(loser)),
    unitCost: cost,
    winners: group((i) => !out[i] && i <= last),
    losers: group((i) => !out[i] && i > last),
    skipped: group((i) => out[i] === 1),
  };
}
