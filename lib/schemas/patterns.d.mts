// Types of patterns.mjs.
export declare const UUID_PATTERN: string;
export declare const NAME_PATTERN: string;
export declare const TEXT_PATTERN: string;
export declare const PATTERN_MESSAGES: Record<string, string>;
export declare const EXCLUSIVE_FIELDS: { schemaPath: string; field: string; other: string; message: string };
