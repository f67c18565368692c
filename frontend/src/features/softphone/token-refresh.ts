/** Renew at most this long before expiry... */
const MAX_MARGIN_MS = 5 * 60_000;
/** ...and never later than halfway through what is left, so short-lived tokens get a retry. */
const MARGIN_SHARE = 0.5;

/** Milliseconds to wait before renewing a voice token that expires at `expiresAt` (epoch ms). */
export function refreshDelayMs(expiresAt: number, now: number): number {
  const remaining = expiresAt - now;
  if (!(remaining > 0)) return 0;
  return remaining - Math.min(MAX_MARGIN_MS, remaining * MARGIN_SHARE);
}
