/**
 * `npm start`'s own settings from the environment, read as strictly as the functions read theirs (lib/config.ts):
 * plain digits only, so that " 4 ", "0x10" or "1e1" is refused with the variable's name instead of meaning 16 or 10.
 */

/** A whole number from `min` to `max`, or undefined when unset or empty. */
export const wholeNumber = (env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return value;
};

/** A decimal number (digits, an optional fraction) of at least 0, above 0 when `positive`; 0 when unset or empty. */
export const decimal = (env: NodeJS.ProcessEnv, name: string, positive: boolean): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return 0;
  const value = /^\d+(?:\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || (positive && value === 0))
    throw new Error(`${name} must be a number ${positive ? 'above 0 (unset: no limit)' : '>= 0'}, got "${raw}"`);
  return value;
};
