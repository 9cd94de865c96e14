/**
 * `npm start`'s own settings from the environment, read as the functions read theirs ({@link plainNumber} of
 * lib/config.ts): plain digits only, so that " 4 ", "0x10" or "1e1" is refused with the variable's name instead of
 * meaning 16 or 10.
 */
import { plainNumber } from '../../lib/config';

/** A whole number from `min` to `max`, or undefined when unset or empty. */
export const wholeNumber = (env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined => {
  const value = plainNumber(env, name);
  if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max))
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${env[name]}"`);
  return value;
};

/**
 * A decimal number (digits, an optional fraction) from 0 (above 0 when `positive`) to `max`; 0 when unset or empty.
 */
export const decimal = (env: NodeJS.ProcessEnv, name: string, positive: boolean, max: number): number => {
  const value = plainNumber(env, name, true) ?? 0;
  if (!(value <= max) || (positive && value === 0 && env[name]))
    throw new Error(
      `${name} must be a number ${positive ? 'above 0' : 'from 0'} to ${max}${positive ? ' (unset: no limit)' : ''}, got "${env[name]}"`,
    );
  return value;
};
