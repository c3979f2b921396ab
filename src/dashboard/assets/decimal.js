// Exact sums and differences of the decimals a query answers with. Counts
// and sums are exact on the server (sums are scaled integers), and an answer
// writes each as a JSON number whose shortest form is its decimal value, or
// as text once it outgrows a double. Adding them as doubles would round
// (0.1 + 0.2): the chart's "other" series, a total minus its top groups,
// must show the number the server would have answered, so it is worked out
// here on the decimal digits, as integers scaled by a common power of ten.

/** A decimal's digits as a scaled bigint: `{ units, scale }` means units / 10^scale; null when `value` is no finite decimal. */
function parse(value) {
  const text = typeof value === 'number' ? numberText(value) : String(value).trim();
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!match) return null;
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let units = BigInt(`${whole}${fraction}`);
  let scale = fraction.length - Number(exponent);
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units: sign === '-' ? -units : units, scale };
}

/** A finite number's shortest decimal form; NaN and infinities have none. */
function numberText(value) {
  return Number.isFinite(value) ? String(value) : '';
}

function rescale({ units, scale }, to) {
  return units * 10n ** BigInt(to - scale);
}

/** `units / 10^scale` written out, trailing zeros of the fraction dropped. */
function format(units, scale) {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  const text = fraction === '' ? whole : `${whole}.${fraction}`;
  return negative && /[1-9]/.test(text) ? `-${text}` : text;
}

/**
 * The exact sum of `plus` minus the exact sum of `minus`, as decimal text
 * ("12.5", "-3", "123456789012345678901"); null when any value is not a
 * finite decimal (a null row value counts as zero).
 *
 * @example
 * exactDifference([0.3], [0.1, 0.2]) // '0'
 */
export function exactDifference(plus, minus = []) {
  const terms = [];
  for (const [values, sign] of [[plus, 1n], [minus, -1n]]) {
    for (const value of values) {
      if (value === null || value === undefined) continue;
      const parsed = parse(value);
      if (parsed === null) return null;
      terms.push({ units: parsed.units * sign, scale: parsed.scale });
    }
  }
  const scale = Math.max(0, ...terms.map((t) => t.scale));
  return format(terms.reduce((sum, t) => sum + rescale(t, scale), 0n), scale);
}

/** Decimal text as the number it is when a double holds it exactly enough to print back the same; else the text. */
export function decimalValue(text) {
  if (text === null) return null;
  const number = Number(text);
  return numberText(number) === text ? number : text;
}
