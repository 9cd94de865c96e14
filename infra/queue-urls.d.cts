/** Types of queue-urls.cjs (the queue URL resolver used by infra/functions.yml). */
export declare function queueUrls(localQueueUrls?: string): Record<string, string | { Ref: string }>;
