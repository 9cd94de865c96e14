/** Namespace of `groupIdForKey`: `UUIDv5(IDEMPOTENCY_NAMESPACE, "<app_id>:<key>")`. Never change it: doing so forks every keyed group. */
export const IDEMPOTENCY_NAMESPACE = '733da009-31d1-4e22-bcfa-46b966839307';

/** Mixin's default API base URL. */
export const DEFAULT_MIXIN_API_URL = 'https://api.mixin.one';
