/** The function runtime and the HTTP error mapping in one module registry (for `Harness.load`). */
export { handlerOptions } from '../../lib/lambda/runtime';
export { httpErrorResponse } from '../../lib/lambda/http-status';
