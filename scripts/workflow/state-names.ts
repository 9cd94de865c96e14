/**
 * A definition whose `$$.State.Name` references are the names of the states they sit in.
 *
 * aws-local-stepfunctions fills only `$$.Execution` of the Context Object, so `$$.State.Name` would be
 * missing, or whatever one static context says, in every state. The idempotency keys of open-team-room are
 * built from it (`<execution>/<state>`), and a local run should send the keys a deployed one would: so each
 * reference in a state's payload templates is replaced by that state's name as a literal.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type States = Record<string, Record<string, Json>>;

const STATE_NAME = '$$.State.Name';
/** The fields of a state that are payload templates evaluated while the state runs. */
const TEMPLATE_FIELDS = ['Parameters', 'ItemSelector', 'ResultSelector'];

/** `name` as an intrinsic function string literal: quote, braces and backslash escaped. */
const literal = (name: string) => `'${name.replace(/[\\'{}]/g, (c) => `\\${c}`)}'`;

/** A payload template with the state's name in place of `$$.State.Name`. */
const fillTemplate = (template: Json, stateName: string): Json => {
  if (Array.isArray(template)) return template.map((t) => fillTemplate(t, stateName));
  if (template === null || typeof template !== 'object') return template;
  return Object.fromEntries(
    Object.entries(template).map(([key, value]): [string, Json] => {
      if (!key.endsWith('.$') || typeof value !== 'string') return [key, fillTemplate(value, stateName)];
      if (value === STATE_NAME) return [key.slice(0, -2), stateName];
      return [key, value.startsWith('States.') ? value.replaceAll(STATE_NAME, literal(stateName)) : value];
    }),
  );
};

const fillStates = (states: States): States =>
  Object.fromEntries(
    Object.entries(states).map(([name, state]) => {
      const filled: Record<string, Json> = { ...state };
      for (const field of TEMPLATE_FIELDS)
        if (state[field] !== undefined) filled[field] = fillTemplate(state[field], name);
      for (const nested of ['ItemProcessor', 'Iterator'] as const) {
        const machine = state[nested] as { States?: States } | undefined;
        if (machine?.States) filled[nested] = { ...machine, States: fillStates(machine.States) } as Json;
      }
      if (Array.isArray(state.Branches)) {
        filled.Branches = (state.Branches as { States: States }[]).map((b) => ({
          ...b,
          States: fillStates(b.States),
        })) as Json;
      }
      return [name, filled];
    }),
  );

/** `definition` with every `$$.State.Name` in its states' payload templates replaced by the state's name. */
export const withStateNames = <T extends { States: object }>(definition: T): T => ({
  ...definition,
  States: fillStates(definition.States as States),
});
