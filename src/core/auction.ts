// The scarcity auction (docs/economics.md, "Scarce goods: rounds and the auction"): units go to
// the highest preference weights (ties: earliest request); every winner pays the same clearing
// weight, the highest losing weight but at least 1.00, times the effort: a uniform-price
// auction, where stating your true preference is the best strategy for a member who wants one
// unit (with several, their own losing unit can set their price). A winner who cannot pay
// within the credit limit is skipped and the unit goes to the next bid. Weights are millionths,
// amounts milli-hours.
//
// Bounded work: a round of u requested units over r requests costs O(r log r + u log u): at
// most 2u + 1 steps (counted by `AuctionMeter`) of O(log u) each, however the balances fall.
// With `maxRequestQty` capping u at 100 r, that is O((u + r) log r).
import type { MilliHours, WeightPpm } from "./amounts.ts";
import { credit, WEIGHT_ONE } from "./weights.ts";
import type { GoodRequestId, MemberId } from "./ids.ts";

export interface Bid {
  readonly request: GoodRequestId;
  readonly member: MemberId;
  /** Preference weight, >= 1.00. */
  readonly weight: WeightPpm;
  readonly units: number;
  /** When the request was made: earlier wins ties. */
  readonly at: number;
}

export interface RoundInput {
  readonly bids: readonly Bid[];
  readonly supply: number;
  /** Production effort per unit. */
  readonly effort: MilliHours;
  /** Each bidding member's balance, by member. */
  readonly balances: ReadonlyMap<MemberId, MilliHours>;
  readonly creditLimit: MilliHours;
}

export interface Share {
  readonly request: GoodRequestId;
  readonly member: MemberId;
  readonly units: number;
}

export interface RoundOutcome {
  readonly clearing: WeightPpm;
  /** What each winner pays per unit: effort x clearing weight. */
  readonly unitCost: MilliHours;
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

/** Values by position, with "the first position before `end` whose value is at least x". */
class MaxTree {
  private readonly size: number;
  private readonly tree: Float64Array;
  constructor(n: number) {
    let size = 1;
    while (size < n) size *= 2;
    this.size = size;
    this.tree = new Float64Array(2 * size).fill(-Infinity);
  }
  set(i: number, v: number): void {
    let p = i + this.size;
    this.tree[p] = v;
    for (p >>= 1; p >= 1; p >>= 1) this.tree[p] = Math.max(this.tree[2 * p]!, this.tree[2 * p + 1]!);
  }
  /** The first position below `end` holding at least `x`, or `end` when there is none. */
  firstAtLeast(x: number, end: number): number {
    if (this.tree[1]! < x) return end;
    let p = 1;
    while (p < this.size) p = this.tree[2 * p]! >= x ? 2 * p : 2 * p + 1;
    const i = p - this.size;
    return i < end ? i : end;
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
 * at the price of the moment are left out, pass by pass (the price can only fall as they go;
 * each pass looks only at the units that just entered the winners, one step each). Then the
 * best-ranked left-out unit whose return leaves every winner able to pay the price that results
 * gets its place back, again and again until none can (a unit given back raises the price, and
 * can make room for another of the member it pushes out). Each give-back is one step: the
 * unit is found by O(log u) searches, never by a scan.
 */
export function roundOutcome(input: RoundInput, meter?: AuctionMeter): RoundOutcome {
  const sorted = [...input.bids].sort((a, b) => b.weight - a.weight || a.at - b.at || a.request - b.request);
  const memberSlot = new Map<MemberId, number>();
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
  for (let from = 0; ;) {
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
  // Given back best first: the highest-ranked left-out unit that can come back now, again
  // and again, until none can. Which units can come back depends only on where they rank
  // against the lowest winner and the first loser and, above the lowest winner, on their
  // member; so each step is found by a few O(log n) searches instead of a scan.
  const leftOut = new Fenwick(n);
  leftOut.fill((i) => out[i] === 1);
  /** The first left-out unit at or after `i` (n if none). */
  const nextLeftOut = (i: number): number => {
    if (i >= n) return n;
    const k = leftOut.before(i) + 1;
    return k > leftOut.before(n) ? n : leftOut.kth(k);
  };
  // Each member's left-out units in rank order; `head` is the best of them still out, the only
  // one that stands for the member above the lowest winner (all of theirs there are alike).
  const unitsOf: number[][] = Array.from({ length: members }, () => []);
  for (let i = 0; i < n; i++) if (out[i]) unitsOf[slotOf[i]!]!.push(i);
  const headAt = new Int32Array(members);
  const heads = new MaxTree(n);
  const nextFor = (slot: number) => capOf(slot, won[slot]! + 1);
  const placeHead = (slot: number) => {
    const list = unitsOf[slot]!;
    let h = headAt[slot]!;
    while (h < list.length && !out[list[h]!]) h++;
    headAt[slot] = h;
    if (h < list.length) heads.set(list[h]!, nextFor(slot));
  };
  const headOf = (slot: number) => unitsOf[slot]![headAt[slot]!] ?? n;
  for (let s = 0; s < members; s++) placeHead(s);
  /** Re-files a member whose count changed, or whose head came back. */
  const refile = (slot: number) => {
    const h = headOf(slot);
    if (h < n) heads.set(h, -Infinity);
    placeHead(slot);
  };
  /** The first unit whose price is at most `cap` (prices only fall down the ranking). */
  const firstPayableAt = (cap: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = costAt(mid);
      if (c <= cap || c === 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  /** The best left-out unit that can come back in the present state, or n. */
  const best = (): number => {
    tick();
    if (eligible < supply) {
      // Fewer units than supply: one wins if its member can pay one more at the price of 1.00.
      if (cost === 0) return nextLeftOut(0);
      return caps.min >= cost ? heads.firstAtLeast(cost, n) : n;
    }
    if (last >= 0) {
      // Above the lowest winner: it wins and the lowest winner becomes the first loser.
      const z = slotOf[last]!;
      const price = costAt(last);
      if (price === 0) {
        const u = nextLeftOut(0);
        if (u < last) return u;
      } else {
        let u = n;
        const hz = headOf(z);
        if (hz < last && caps.min >= price) u = hz;
        // Everyone but the lowest winner's member (one unit fewer) and the newcomer (one more)
        // must still pay; the newcomer is any member whose head pays one more at that price.
        const fewer = capOf(z, won[z]! - 1) >= price;
        caps.set(z, Infinity);
        const others = caps.min >= price;
        caps.set(z, capOf(z, won[z]!));
        if (fewer && others) {
          if (hz < n) heads.set(hz, -Infinity);
          u = Math.min(u, heads.firstAtLeast(price, Math.min(u, last)));
          if (hz < n) heads.set(hz, nextFor(z));
        }
        if (u < last) return u;
      }
    }
    // Between the lowest winner and the first loser: it becomes the first loser, if every
    // winner can pay its price. Below the first loser: it simply loses.
    const between = nextLeftOut(Math.max(last + 1, firstPayableAt(caps.min)));
    if (between < loser) return between;
    return nextLeftOut(loser + 1);
  };

  for (let u = best(); u < n; u = best()) {
    const su = slotOf[u]!;
    if (eligible < supply) {
      won[su]!++;
      caps.set(su, capOf(su, won[su]!));
      last = Math.max(last, u);
    } else if (u < last) {
      const sz = slotOf[last]!;
      won[su]!++;
      won[sz]!--;
      caps.set(su, capOf(su, won[su]!));
      caps.set(sz, capOf(sz, won[sz]!));
      loser = last;
      cost = costAt(last);
      inRound.add(u, 1);
      last = inRound.kth(inRound.before(loser));
      inRound.add(u, -1);
      if (sz !== su) refile(sz);
    } else if (u < loser) {
      loser = u;
      cost = costAt(u);
    }
    inRound.add(u, 1);
    leftOut.add(u, -1);
    eligible++;
    out[u] = 0;
    refile(su);
  }

  const group = (keep: (i: number) => boolean): Share[] => {
    const shares: Share[] = [];
    for (let i = 0; i < n;) {
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
