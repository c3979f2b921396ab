/**
 * Realistic online-shop traffic for the demo: a funnel of page views,
 * add-to-cart events and orders from a fixed population of users and
 * products, with a share of late events (arriving hours to weeks after they
 * happened) and of duplicates (clients retrying a request), the two cases a
 * Lambda Architecture must count exactly once.
 *
 * @module
 */
import { Random } from './random.ts';

export type ShopEventType = 'page_view' | 'add_to_cart' | 'order';
export type ShopEvents = Record<ShopEventType, Record<string, unknown>[]>;

export interface ShopGeneratorOptions {
  /** The same seed replays the same stream, ids included; a new seed gives new ids (a restarted demo must not resend old ones). */
  readonly seed?: number;
  /** Share of events whose time lies 1 hour to 14 days in the past. Default 0.02. */
  readonly lateShare?: number;
  /** Share of events sent again unchanged, as a retrying client would. Default 0.01. */
  readonly duplicateShare?: number;
}

const COUNTRIES: readonly (readonly [string, number])[] = [
  ['US', 30], ['DE', 15], ['GB', 10], ['FR', 10], ['IN', 10], ['BR', 8], ['JP', 8], ['CA', 5], ['AU', 4],
];
const CURRENCY: Readonly<Record<string, readonly [string, number]>> = {
  US: ['USD', 1], DE: ['EUR', 0.92], FR: ['EUR', 0.92], GB: ['GBP', 0.79], IN: ['INR', 83], BR: ['BRL', 5],
  JP: ['JPY', 150], CA: ['CAD', 1.36], AU: ['AUD', 1.52],
};
const DEVICES: readonly (readonly [string, number])[] = [['mobile', 60], ['desktop', 32], ['tablet', 8]];
const CATEGORIES = ['electronics', 'books', 'home', 'toys', 'fashion', 'garden', 'sports', 'beauty'] as const;
const COUPONS = ['WELCOME10', 'SPRING', 'VIP'] as const;
const USERS = 5000;
const PRODUCTS = 200;
const RECENT = 256;
const HOUR = 3_600_000;

interface Product { readonly id: string; readonly category: string; readonly usd: number }

export class ShopGenerator {
  readonly #random: Random;
  readonly #lateShare: number;
  readonly #duplicateShare: number;
  readonly #products: readonly Product[];
  readonly #recent: Record<ShopEventType, Record<string, unknown>[]> = { page_view: [], add_to_cart: [], order: [] };
  #sequence = 0;
  readonly #idPrefix: string;

  constructor(options: ShopGeneratorOptions = {}) {
    const seed = options.seed ?? 20261125;
    this.#random = new Random(seed);
    this.#idPrefix = (seed >>> 0).toString(36);
    this.#lateShare = options.lateShare ?? 0.02;
    this.#duplicateShare = options.duplicateShare ?? 0.01;
    this.#products = Array.from({ length: PRODUCTS }, (_, i) => ({
      id: `p${String(i).padStart(3, '0')}`,
      category: CATEGORIES[i % CATEGORIES.length]!,
      // Whole cents divided once: 2 + 0.07 would be 2.0700000000000003, which a 2-place field refuses.
      usd: (200 + Math.round(this.#random.next() ** 2 * 49_800)) / 100,
    }));
  }

  /**
   * About `count` events (page views dominate the funnel), timed by `timeAt`,
   * which gets a uniform random number and returns epoch milliseconds.
   */
  generate(count: number, timeAt: (u: number) => number): ShopEvents {
    const out: ShopEvents = { page_view: [], add_to_cart: [], order: [] };
    for (let i = 0; i < count; i++) {
      const duplicate = this.#duplicate();
      if (duplicate !== undefined) {
        out[duplicate.type].push(duplicate.event);
        continue;
      }
      let at = timeAt(this.#random.next());
      if (this.#random.next() < this.#lateShare) at -= HOUR + this.#random.int(14 * 24 * HOUR);
      this.#emit(out, at);
    }
    return out;
  }

  /** Events spread evenly over `[from, to)`. */
  backfill(count: number, from: number, to: number): ShopEvents {
    return this.generate(count, (u) => from + Math.floor(u * (to - from)));
  }

  /**
   * A shop's history up to `to`, growing: `count` events whose rate rises
   * exponentially and reaches `ratePerSecond` at `to`, the rate live traffic
   * goes on at. A chart of the history and the live traffic after it is one
   * curve, where an even spread at a fraction of the live rate made the live
   * hour a spike over a flat line.
   */
  growingHistory(count: number, to: number, ratePerSecond: number): ShopEvents {
    // Rate r(t) = ratePerSecond · e^((t − to)/τ); all of history holds count = ratePerSecond · τ events.
    const tau = (count / ratePerSecond) * 1000;
    return this.generate(count, (u) => to + Math.floor(tau * Math.log(Math.max(u, Number.MIN_VALUE))));
  }

  /** Events happening now, give or take the second a client takes to send them. */
  live(count: number, now = Date.now()): ShopEvents {
    return this.generate(count, (u) => now - Math.floor(u * 1000));
  }

  #emit(out: ShopEvents, at: number): void {
    const r = this.#random;
    const userId = `u${r.int(USERS)}`;
    const country = r.weighted(COUNTRIES);
    const product = r.pick(this.#products);
    const time = new Date(at).toISOString();
    const id = () => `${this.#idPrefix}-${(++this.#sequence).toString(36)}`;
    const roll = r.next();
    if (roll < 0.84) {
      const page = r.next() < 0.6 ? `/product/${product.id}` : r.pick(['/', '/search', '/cart', `/category/${product.category}`]);
      this.#push(out, 'page_view', { viewId: id(), at: time, userId, page, country, device: r.weighted(DEVICES) });
    } else if (roll < 0.96) {
      this.#push(out, 'add_to_cart', {
        cartEventId: id(), at: time, userId, productId: product.id, category: product.category, country,
        quantity: 1 + (r.next() < 0.2 ? r.int(3) : 0), price: product.usd,
      });
    } else {
      const [currency, rate] = CURRENCY[country]!;
      const items = 1 + r.int(4);
      const usd = Array.from({ length: items }, () => r.pick(this.#products).usd).reduce((a, b) => a + b, 0);
      const coupon = r.next() < 0.1 ? r.pick(COUPONS) : undefined;
      this.#push(out, 'order', {
        orderId: id(), at: time, userId, country, currency, amount: Math.round(usd * rate * 100) / 100, amountUsd: Math.round(usd * 100) / 100, items,
        ...(coupon === undefined ? {} : { coupon }),
      });
    }
  }

  #push(out: ShopEvents, type: ShopEventType, event: Record<string, unknown>): void {
    out[type].push(event);
    const recent = this.#recent[type];
    if (recent.length === RECENT) recent[this.#random.int(RECENT)] = event;
    else recent.push(event);
  }

  #duplicate(): { type: ShopEventType; event: Record<string, unknown> } | undefined {
    if (this.#random.next() >= this.#duplicateShare) return undefined;
    const type = this.#random.weighted<ShopEventType>([['page_view', 84], ['add_to_cart', 12], ['order', 4]]);
    const recent = this.#recent[type];
    return recent.length === 0 ? undefined : { type, event: this.#random.pick(recent) };
  }
}
