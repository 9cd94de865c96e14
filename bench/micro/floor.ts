/** ID + token + request of the floor handler (node:crypto only). */
export { buildRequest } from '../handlers/floor';
