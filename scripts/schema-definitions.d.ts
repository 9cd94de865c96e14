// Types for lib/schemas/definitions.mjs as scripts/openapi.ts reads it: plain JSON Schema objects by name.
declare module '*/schemas/definitions.mjs' {
  export const schemas: Record<'group' | 'contact' | 'groupTask' | 'contactTask', Record<string, unknown>>;
}
