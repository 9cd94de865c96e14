// Types for the build-time output of compile.mjs: lib/schemas/generated/<schema>.js.
declare module '*/schemas/generated/group.js' {
  export const validate: import('../validation').CompiledValidator;
}
declare module '*/schemas/generated/contact.js' {
  export const validate: import('../validation').CompiledValidator;
}
declare module '*/schemas/generated/groupTask.js' {
  export const validate: import('../validation').CompiledValidator;
}
declare module '*/schemas/generated/contactTask.js' {
  export const validate: import('../validation').CompiledValidator;
}
