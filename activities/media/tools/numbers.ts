/** `n` to `digits` decimals, as a number (measurements and decisions are recorded this way). */
export const round = (n: number, digits: number) => Number(n.toFixed(digits));

/** The nearest even size of at least 2: what yuv420p encoders accept for a width or height. */
export const roundEven = (n: number) => Math.max(2, Math.round(n / 2) * 2);
