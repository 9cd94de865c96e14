// Types for the build-time output of compile.mjs (lib/schemas/generated/validators.js).
declare module '*/schemas/generated/validators.js' {
  type Validator = ((data: unknown) => boolean) & { errors?: unknown[] | null };
  export const group: Validator;
  export const contact: Validator;
  export const groupTask: Validator;
  export const contactTask: Validator;
}
